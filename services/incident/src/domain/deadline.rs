//! When a deadline falls: hours run round the clock; working days skip Saturdays and Sundays.
//! (Bank holidays are not known here: a deadline over one falls a day early, never late.)

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use trustsafe_events::incident::Deadline;

pub fn due(from: DateTime<Utc>, deadline: Deadline) -> DateTime<Utc> {
    match deadline {
        Deadline::Hours(hours) => from + Duration::hours(i64::from(hours)),
        Deadline::WorkingDays(days) => {
            let mut at = from;
            let mut left = days;
            while left > 0 {
                at += Duration::days(1);
                if !matches!(at.weekday(), Weekday::Sat | Weekday::Sun) {
                    left -= 1;
                }
            }
            at
        }
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

/// From a Friday, each run of up to five working days also spans a weekend.
fn longest_hours(deadline: Deadline) -> i64 {
    match deadline {
        Deadline::Hours(hours) => i64::from(hours),
        Deadline::WorkingDays(days) => {
            let weekends = days.div_ceil(5);
            24 * (i64::from(days) + 2 * i64::from(weekends))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_working_day_from_friday_afternoon_is_monday_afternoon() {
        // 2026-11-20 is a Friday.
        let friday = at("2026-11-20T15:00:00Z");
        assert_eq!(due(friday, Deadline::WorkingDays(1)), at("2026-11-23T15:00:00Z"));
        assert_eq!(due(friday, Deadline::WorkingDays(2)), at("2026-11-24T15:00:00Z"));
        let saturday = at("2026-11-21T10:00:00Z");
        assert_eq!(
            due(saturday, Deadline::WorkingDays(1)),
            at("2026-11-23T10:00:00Z")
        );
        let tuesday = at("2026-11-24T09:00:00Z");
        assert_eq!(due(tuesday, Deadline::WorkingDays(1)), at("2026-11-25T09:00:00Z"));
    }

    #[test]
    fn hours_run_through_nights_and_weekends() {
        assert_eq!(
            due(at("2026-11-20T23:30:00Z"), Deadline::Hours(1)),
            at("2026-11-21T00:30:00Z")
        );
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
