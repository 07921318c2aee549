//! When a deadline falls: hours run round the clock; working days skip Saturdays, Sundays and the
//! bank holidays of England and Wales, as schools count them (a LADO referral within one working day
//! of a Friday before a bank-holiday Monday is due on Tuesday).
//!
//! The bank holidays ship with the release (`bank-holidays.json`, from GOV.UK) and run out on a known
//! day: past it, working days skip weekends only, and the service warns from six months before.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde::Deserialize;
use trustsafe_events::incident::Deadline;

/// The longest deadline a workflow may set: a year. Far past any policy's; it bounds the arithmetic.
pub const MAX_HOURS: u32 = 366 * 24;
pub const MAX_WORKING_DAYS: u32 = 260;

/// The days that are not working days, besides weekends.
#[derive(Debug, Deserialize)]
pub struct BankHolidays {
    pub covered_until: NaiveDate,
    dates: BTreeSet<NaiveDate>,
}

impl BankHolidays {
    /// England and Wales, as shipped.
    pub fn england_and_wales() -> &'static BankHolidays {
        static SHIPPED: LazyLock<BankHolidays> = LazyLock::new(|| {
            serde_json::from_str(include_str!("../../bank-holidays.json"))
                .expect("the shipped bank holidays parse")
        });
        &SHIPPED
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.dates.contains(&day)
    }

    /// What to tell an operator on `today`: nothing, or that the list runs out (or has run out).
    pub fn warning(&self, today: NaiveDate) -> Option<String> {
        let left = (self.covered_until - today).num_days();
        let update = "update services/incident/bank-holidays.json from GOV.UK and release";
        if left < 0 {
            Some(format!(
                "bank holidays are known only until {}: working-day deadlines now skip weekends alone and may fall on a bank holiday; {update}",
                self.covered_until
            ))
        } else if left <= 183 {
            Some(format!(
                "bank holidays are known only until {} ({left} days from now); {update}",
                self.covered_until
            ))
        } else {
            None
        }
    }
}

/// When a deadline of `deadline` from `from` falls; `None` only for a deadline too long for the
/// calendar (the workflow rules keep every deadline within a year, so none is).
pub fn due(from: DateTime<Utc>, deadline: Deadline) -> Option<DateTime<Utc>> {
    let holidays = BankHolidays::england_and_wales();
    match deadline {
        Deadline::Hours(hours) => from.checked_add_signed(Duration::hours(i64::from(hours.min(MAX_HOURS)))),
        Deadline::WorkingDays(days) => {
            let mut at = from;
            let mut left = days.min(MAX_WORKING_DAYS);
            while left > 0 {
                at = at.checked_add_signed(Duration::days(1))?;
                if holidays.is_working_day(at.date_naive()) {
                    left -= 1;
                }
            }
            Some(at)
        }
    }
}

/// Whether `deadline` lies within what a workflow may set.
pub fn within_bounds(deadline: Deadline) -> bool {
    match deadline {
        Deadline::Hours(hours) => (1..=MAX_HOURS).contains(&hours),
        Deadline::WorkingDays(days) => (1..=MAX_WORKING_DAYS).contains(&days),
    }
}

/// Whether `deadline` never falls later than `than` would: a school may shorten a policy's deadline,
/// never lengthen it. Across units, the longest the one can be is held against the shortest of the other.
pub fn no_longer_than(deadline: Deadline, than: Deadline) -> bool {
    match (deadline, than) {
        (Deadline::Hours(a), Deadline::Hours(b)) => a <= b,
        (Deadline::WorkingDays(a), Deadline::WorkingDays(b)) => a <= b,
        _ => longest_hours(deadline) <= shortest_hours(than),
    }
}

fn shortest_hours(deadline: Deadline) -> i64 {
    match deadline {
        Deadline::Hours(hours) => i64::from(hours),
        Deadline::WorkingDays(days) => 24 * i64::from(days),
    }
}

/// From a Friday, each run of up to five working days also spans a weekend, and a bank holiday may
/// stand beside it (Christmas and New Year put three in two weeks).
fn longest_hours(deadline: Deadline) -> i64 {
    match deadline {
        Deadline::Hours(hours) => i64::from(hours),
        Deadline::WorkingDays(days) => {
            let weekends = days.div_ceil(5);
            24 * (i64::from(days) + 3 * i64::from(weekends))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_working_day_from_friday_afternoon_is_monday_afternoon() {
        // 2026-11-20 is a Friday.
        let friday = at("2026-11-20T15:00:00Z");
        assert_eq!(
            due(friday, Deadline::WorkingDays(1)),
            Some(at("2026-11-23T15:00:00Z"))
        );
        assert_eq!(
            due(friday, Deadline::WorkingDays(2)),
            Some(at("2026-11-24T15:00:00Z"))
        );
        let saturday = at("2026-11-21T10:00:00Z");
        assert_eq!(
            due(saturday, Deadline::WorkingDays(1)),
            Some(at("2026-11-23T10:00:00Z"))
        );
        let tuesday = at("2026-11-24T09:00:00Z");
        assert_eq!(
            due(tuesday, Deadline::WorkingDays(1)),
            Some(at("2026-11-25T09:00:00Z"))
        );
    }

    #[test]
    fn bank_holidays_are_not_working_days() {
        // Given a LADO referral due within one working day, when the concern is reported on the
        // Friday before the late-summer bank holiday (Monday 31 August 2026), then it is due Tuesday.
        assert_eq!(
            due(at("2026-08-28T14:00:00Z"), Deadline::WorkingDays(1)),
            Some(at("2026-09-01T14:00:00Z"))
        );
        // Christmas 2026: Friday 25 and the substitute Monday 28 December; Boxing Day is a Saturday.
        assert_eq!(
            due(at("2026-12-24T10:00:00Z"), Deadline::WorkingDays(1)),
            Some(at("2026-12-29T10:00:00Z"))
        );
        // Easter 2027: Good Friday 26 March and Easter Monday 29 March.
        assert_eq!(
            due(at("2027-03-25T10:00:00Z"), Deadline::WorkingDays(1)),
            Some(at("2027-03-30T10:00:00Z"))
        );
        let holidays = BankHolidays::england_and_wales();
        assert!(
            !holidays.is_working_day(day("2028-01-03")),
            "New Year's substitute"
        );
        assert!(holidays.is_working_day(day("2028-01-04")));
    }

    #[test]
    fn hours_run_through_nights_weekends_and_holidays() {
        assert_eq!(
            due(at("2026-12-24T23:30:00Z"), Deadline::Hours(1)),
            Some(at("2026-12-25T00:30:00Z"))
        );
    }

    #[test]
    fn the_shipped_list_warns_six_months_before_it_runs_out_and_after() {
        let holidays = BankHolidays::england_and_wales();
        assert!(holidays.warning(day("2026-12-01")).is_none());
        let soon = holidays.warning(day("2028-08-01")).unwrap();
        assert!(
            soon.contains("2028-12-31") && soon.contains("days from now"),
            "{soon}"
        );
        let past = holidays.warning(day("2029-02-01")).unwrap();
        assert!(past.contains("weekends alone"), "{past}");
        // Past the list, weekends are still skipped.
        assert_eq!(
            due(at("2029-06-01T09:00:00Z"), Deadline::WorkingDays(1)),
            Some(at("2029-06-04T09:00:00Z"))
        );
    }

    #[test]
    fn no_deadline_however_absurd_overflows_or_hangs() {
        let far = at("2026-11-20T15:00:00Z");
        assert!(due(far, Deadline::Hours(u32::MAX)).is_some());
        assert!(due(far, Deadline::WorkingDays(u32::MAX)).is_some());
        assert_eq!(due(DateTime::<Utc>::MAX_UTC, Deadline::Hours(1)), None);
        assert!(!within_bounds(Deadline::Hours(0)));
        assert!(!within_bounds(Deadline::Hours(MAX_HOURS + 1)));
        assert!(!within_bounds(Deadline::WorkingDays(MAX_WORKING_DAYS + 1)));
        assert!(within_bounds(Deadline::WorkingDays(1)));
    }

    #[test]
    fn shortening_is_allowed_and_lengthening_is_not() {
        assert!(no_longer_than(Deadline::Hours(1), Deadline::Hours(4)));
        assert!(!no_longer_than(Deadline::Hours(5), Deadline::Hours(4)));
        assert!(no_longer_than(Deadline::Hours(4), Deadline::WorkingDays(1)));
        assert!(no_longer_than(Deadline::Hours(24), Deadline::WorkingDays(1)));
        assert!(!no_longer_than(Deadline::Hours(25), Deadline::WorkingDays(1)));
        assert!(!no_longer_than(Deadline::WorkingDays(1), Deadline::Hours(4)));
        assert!(!no_longer_than(
            Deadline::WorkingDays(2),
            Deadline::WorkingDays(1)
        ));
    }
}
