//! The periods figures are asked for: whole months (`YYYY-MM`), and for governors whole terms only,
//! which do not overlap, so no two periods a governor sees can be subtracted one from the other.

use chrono::{Datelike, Duration, Months, NaiveDate};

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
    fn months_are_written_yyyy_mm() {
        assert_eq!(month("2026-02"), Some(day(2026, 2, 1)));
        assert_eq!(last_day(day(2026, 2, 1)), day(2026, 2, 28));
        for bad in ["2026-2", "26-02", "2026-13", "2026-02-01"] {
            assert_eq!(month(bad), None, "{bad}");
        }
    }
}
