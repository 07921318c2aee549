//! Where each school stands with its DfE filtering and monitoring duties, as the trust lead sees it:
//! roles not named, a check due, the annual review overdue, changes awaiting a step. The due dates are
//! the filtering service's (they travel on the log); the standing at a moment is here.

use chrono::{DateTime, NaiveDate, Utc};

use super::policy_reviews::review_status;

/// The roles the standards ask for, as the log names them.
pub const ROLES: [&str; 4] = ["senior_leader", "governor", "dsl", "it_provider"];

/// One school's duties as the read model holds them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DutyFacts {
    pub school_id: String,
    pub roles_named: Vec<String>,
    /// The latest check, and when the next is due.
    pub last_check: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The latest review, and when the next is due.
    pub last_review: Option<(NaiveDate, NaiveDate)>,
    /// Proposed and not yet decided, or approved and not yet applied.
    pub changes_awaiting: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DutyStanding {
    pub roles_missing: Vec<&'static str>,
    pub last_check_at: Option<DateTime<Utc>>,
    pub check_due: bool,
    pub last_reviewed_on: Option<NaiveDate>,
    pub next_review_by: Option<NaiveDate>,
    /// `overdue`, `current` or `not_recorded`, as for the online-safety policy.
    pub review: &'static str,
    pub changes_awaiting: i64,
}

/// The school's standing at `now`.
pub fn standing(facts: &DutyFacts, now: DateTime<Utc>) -> DutyStanding {
    let next_review_by = facts.last_review.map(|(_, by)| by);
    DutyStanding {
        roles_missing: ROLES
            .into_iter()
            .filter(|role| !facts.roles_named.iter().any(|named| named == role))
            .collect(),
        last_check_at: facts.last_check.map(|(at, _)| at),
        check_due: facts.last_check.is_none_or(|(_, due)| now > due),
        last_reviewed_on: facts.last_review.map(|(on, _)| on),
        next_review_by,
        review: review_status(next_review_by, now.date_naive()).0,
        changes_awaiting: facts.changes_awaiting,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    #[test]
    fn a_school_that_has_done_nothing_owes_everything() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let nothing = standing(&DutyFacts::default(), now);
        assert_eq!(nothing.roles_missing, ROLES);
        assert!(nothing.check_due);
        assert_eq!(nothing.review, "not_recorded");
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let kept = standing(
            &DutyFacts {
                school_id: "raps".into(),
                roles_named: ROLES.map(String::from).to_vec(),
                last_check: Some((now - Duration::days(10), now + Duration::days(110))),
                last_review: Some((day(2026, 10, 1), day(2027, 10, 1))),
                changes_awaiting: 2,
            },
            now,
        );
        assert!(kept.roles_missing.is_empty() && !kept.check_due);
        assert_eq!((kept.review, kept.changes_awaiting), ("current", 2));
        let lapsed = standing(
            &DutyFacts {
                last_check: Some((now - Duration::days(130), now - Duration::days(10))),
                last_review: Some((day(2025, 10, 1), day(2026, 10, 1))),
                ..DutyFacts::default()
            },
            now,
        );
        assert!(lapsed.check_due);
        assert_eq!(lapsed.review, "overdue");
    }
}
