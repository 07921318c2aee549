//! Whether a school's online-safety policy is due for review.

use chrono::NaiveDate;

/// `overdue` once the review date has passed (and by how many days), `current` before it,
/// `not_recorded` without one.
pub fn review_status(next_review: Option<NaiveDate>, today: NaiveDate) -> (&'static str, Option<i64>) {
    let days_overdue = next_review
        .map(|due| (today - due).num_days())
        .filter(|days| *days > 0);
    let status = match (next_review, days_overdue) {
        (None, _) => "not_recorded",
        (Some(_), Some(_)) => "overdue",
        (Some(_), None) => "current",
    };
    (status, days_overdue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_is_overdue_the_day_after_it_falls_due() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        assert_eq!(review_status(None, day(1)), ("not_recorded", None));
        assert_eq!(review_status(Some(day(2)), day(1)), ("current", None));
        assert_eq!(review_status(Some(day(1)), day(1)), ("current", None));
        assert_eq!(review_status(Some(day(1)), day(4)), ("overdue", Some(3)));
    }
}
