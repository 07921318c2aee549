//! The periods figures are asked for: whole months (`YYYY-MM`), and for governors whole terms only,
//! which do not overlap, so no two periods a governor sees can be subtracted one from the other.

use chrono::{Datelike, Duration, Months, NaiveDate};

/// A period that cannot be asked for, and the query parameter at fault.
#[derive(Debug, PartialEq, Eq)]
pub struct PeriodError {
    pub field: &'static str,
    pub detail: &'static str,
    pub reason: &'static str,
}

/// The first and last days of a period.
pub type Days = (NaiveDate, NaiveDate);

/// The months `from` to `to` (inclusive, `YYYY-MM`) as their first and last days; by default the
/// twelve months to this one. Periods are whole months: the figures are kept per month.
pub fn months(
    from: Option<&str>,
    to: Option<&str>,
    term: Option<&str>,
    today: NaiveDate,
) -> Result<Days, PeriodError> {
    if term.is_some() {
        return Err(PeriodError {
            field: "term",
            detail: "Ask for months (from, to), not a term, here.",
            reason: "not taken here",
        });
    }
    let parse = |field, text: Option<&str>, detail| match text {
        None => Ok(None),
        Some(text) => month(text).map(Some).ok_or(PeriodError {
            field,
            detail,
            reason: "a month, YYYY-MM",
        }),
    };
    let this_month = today.with_day(1).expect("every month has a first day");
    let to = parse("to", to, "to is not a month written YYYY-MM.")?.unwrap_or(this_month);
    let from = parse("from", from, "from is not a month written YYYY-MM.")?.unwrap_or(to - Months::new(11));
    if from > to {
        return Err(PeriodError {
            field: "from",
            detail: "from is after to.",
            reason: "after to",
        });
    }
    Ok((from, last_day(to)))
}

/// The term governors ask for (`term=2026-autumn`; by default this one) and its days. Governors see
/// whole terms only: no two periods they can ask for overlap, so none can be subtracted from another
/// to single out a small count.
pub fn whole_term(
    term: Option<&str>,
    months_asked: bool,
    today: NaiveDate,
) -> Result<(String, Days), PeriodError> {
    if months_asked {
        return Err(PeriodError {
            field: "from",
            detail: "Governors see whole terms: ask for term=2026-autumn, 2027-spring or 2027-summer, not months.",
            reason: "governors see whole terms",
        });
    }
    let named = term.map(str::to_owned).unwrap_or_else(|| term_of(today));
    let days = self::term(&named).ok_or(PeriodError {
        field: "term",
        detail: "Say which term: term=2026-autumn, 2027-spring or 2027-summer.",
        reason: "YYYY-autumn, YYYY-spring or YYYY-summer",
    })?;
    Ok((named, days))
}

/// The term the governors' report is for: it must be named.
pub fn named_term(term: Option<&str>) -> Result<(String, Days), PeriodError> {
    let named = term.unwrap_or_default();
    let days = self::term(named).ok_or(PeriodError {
        field: "term",
        detail: "Say which term: term=2026-autumn, 2027-spring or 2027-summer.",
        reason: "required, as YYYY-autumn, YYYY-spring or YYYY-summer",
    })?;
    Ok((named.to_owned(), days))
}

/// The first day of a month written `YYYY-MM`.
pub fn month(text: &str) -> Option<NaiveDate> {
    let (year, month) = text.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)
}

/// The last day of the month that starts on `first`.
pub fn last_day(first: NaiveDate) -> NaiveDate {
    first + Months::new(1) - Duration::days(1)
}

/// A term, `YYYY-autumn` (September to December), `YYYY-spring` (January to March) or `YYYY-summer`
/// (April to August): its first and last days.
pub fn term(text: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (year, season) = text.split_once('-')?;
    let year: i32 = year.parse().ok().filter(|year| (2000..=2100).contains(year))?;
    let date = |month, day| NaiveDate::from_ymd_opt(year, month, day);
    match season {
        "autumn" => Some((date(9, 1)?, date(12, 31)?)),
        "spring" => Some((date(1, 1)?, date(3, 31)?)),
        "summer" => Some((date(4, 1)?, date(8, 31)?)),
        _ => None,
    }
}

/// The name of the term `day` falls in.
pub fn term_of(day: NaiveDate) -> String {
    let season = match day.month() {
        1..=3 => "spring",
        4..=8 => "summer",
        _ => "autumn",
    };
    format!("{}-{season}", day.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn terms_are_the_school_year_s_three() {
        assert_eq!(term("2026-autumn"), Some((day(2026, 9, 1), day(2026, 12, 31))));
        assert_eq!(term("2027-spring"), Some((day(2027, 1, 1), day(2027, 3, 31))));
        assert_eq!(term("2027-summer"), Some((day(2027, 4, 1), day(2027, 8, 31))));
        for bad in ["", "2026", "2026-winter", "autumn-2026", "99999-autumn"] {
            assert_eq!(term(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_day_is_in_exactly_the_term_it_names() {
        let mut at = day(2026, 1, 1);
        while at < day(2028, 1, 1) {
            let (first, last) = term(&term_of(at)).unwrap();
            assert!(first <= at && at <= last, "{at}");
            at += Duration::days(1);
        }
    }

    #[test]
    fn a_period_is_twelve_months_to_this_one_unless_asked_otherwise() {
        let today = day(2026, 12, 1);
        assert_eq!(
            months(None, None, None, today),
            Ok((day(2026, 1, 1), day(2026, 12, 31)))
        );
        assert_eq!(
            months(Some("2026-02"), Some("2026-03"), None, today),
            Ok((day(2026, 2, 1), day(2026, 3, 31)))
        );
        let field = |result: Result<Days, PeriodError>| result.unwrap_err().field;
        assert_eq!(
            field(months(Some("2026-04"), Some("2026-03"), None, today)),
            "from"
        );
        assert_eq!(field(months(None, Some("March"), None, today)), "to");
        assert_eq!(field(months(None, None, Some("2026-autumn"), today)), "term");
    }

    #[test]
    fn governors_ask_for_whole_terms_and_the_report_names_one() {
        let today = day(2026, 12, 1);
        assert_eq!(
            whole_term(None, false, today),
            Ok(("2026-autumn".into(), (day(2026, 9, 1), day(2026, 12, 31))))
        );
        assert_eq!(whole_term(None, true, today).unwrap_err().field, "from");
        assert_eq!(
            whole_term(Some("2026-winter"), false, today).unwrap_err().field,
            "term"
        );
        assert_eq!(named_term(None).unwrap_err().field, "term");
        assert_eq!(named_term(Some("2027-spring")).unwrap().0, "2027-spring");
    }

    #[test]
    fn months_are_written_yyyy_mm() {
        assert_eq!(month("2026-02"), Some(day(2026, 2, 1)));
        assert_eq!(last_day(day(2026, 2, 1)), day(2026, 2, 28));
        for bad in ["2026-2", "26-02", "2026-13", "2026-02-01"] {
            assert_eq!(month(bad), None, "{bad}");
        }
    }
}
