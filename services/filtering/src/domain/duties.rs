//! The DfE filtering and monitoring standards' records beside the change log: the roles a school
//! names, the checks it logs, and its annual review; and when each is due. Pure: the clock comes in.

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use trustsafe_events::filtering::duties::{
    CheckDetails, CheckResult, DutyRole, DutyRolesNamed, FilterCheckLogged, ReviewRecord, RiskProfile,
    RoleHolders,
};
use uuid::Uuid;

use super::refusal::{Refusal, optional, text};

/// A check is due when none was logged within a term.
pub const CHECK_WITHIN_DAYS: i64 = 120;

/// The most actions a review lists.
pub const MAX_ACTIONS: usize = 50;

/// How far ahead of the server's clock a stated time may be (clocks differ).
const CLOCK_SKEW_MINUTES: i64 = 5;

fn name(field: &'static str, value: Option<&str>) -> Result<Option<String>, Refusal> {
    let value = optional(field, value)?;
    if value.as_ref().is_some_and(|value| value.chars().count() > 200) {
        return Err(Refusal::Invalid(field, "is at most 200 characters".into()));
    }
    Ok(value)
}

/// The roles, each name checked; blank means not named.
pub fn name_roles(holders: &RoleHolders) -> Result<DutyRolesNamed, Refusal> {
    let holders = RoleHolders {
        senior_leader: name("senior_leader", holders.senior_leader.as_deref())?,
        governor: name("governor", holders.governor.as_deref())?,
        dsl: name("dsl", holders.dsl.as_deref())?,
        it_provider: name("it_provider", holders.it_provider.as_deref())?,
    };
    Ok(DutyRolesNamed {
        named: named(&holders),
        restricted: Some(holders),
    })
}

/// The roles with someone named, in order.
pub fn named(holders: &RoleHolders) -> Vec<DutyRole> {
    [
        (DutyRole::SeniorLeader, &holders.senior_leader),
        (DutyRole::Governor, &holders.governor),
        (DutyRole::Dsl, &holders.dsl),
        (DutyRole::ItProvider, &holders.it_provider),
    ]
    .into_iter()
    .filter(|(_, holder)| holder.is_some())
    .map(|(role, _)| role)
    .collect()
}

/// A check as someone logs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckEntry {
    pub checked_at: Option<DateTime<Utc>>,
    pub checked_by: String,
    pub what_tested: String,
    pub result: CheckResult,
    pub actions: Option<String>,
}

/// A check's event: when (not ahead of `now`), who, what was tested, and, unless it passed, the actions.
pub fn log_check(
    entry: CheckEntry,
    check_id: Uuid,
    now: DateTime<Utc>,
) -> Result<FilterCheckLogged, Refusal> {
    let checked_at = entry.checked_at.unwrap_or(now);
    if checked_at > now + Duration::minutes(CLOCK_SKEW_MINUTES) {
        return Err(Refusal::Invalid("checked_at", "is not in the future".into()));
    }
    let checked_by = name("checked_by", Some(&entry.checked_by))?
        .ok_or_else(|| Refusal::Invalid("checked_by", "is required".into()))?;
    let what_tested = text("what_tested", &entry.what_tested, true)?.unwrap_or_default();
    let actions = optional("actions", entry.actions.as_deref())?;
    if entry.result != CheckResult::Passed && actions.is_none() {
        return Err(Refusal::Invalid(
            "actions",
            "say what follows a check that did not pass".into(),
        ));
    }
    Ok(FilterCheckLogged {
        check_id,
        checked_at,
        next_check_by: checked_at + Duration::days(CHECK_WITHIN_DAYS),
        result: entry.result,
        restricted: Some(CheckDetails {
            checked_by,
            what_tested,
            actions,
        }),
    })
}

/// A review as someone records it, before the checks and changes it considered are gathered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewEntry {
    pub reviewed_on: NaiveDate,
    pub next_review_by: Option<NaiveDate>,
    pub record: ReviewRecord,
}

/// Checks a review: on a day not ahead of `today`, by the senior leader, the DSL and the IT provider
/// (the governor involved where they can be), covering the risk profile, BYOD, AI and the provision;
/// the next one within a year. The record as kept, and the next review's date.
pub fn check_review(entry: ReviewEntry, today: NaiveDate) -> Result<(ReviewRecord, NaiveDate), Refusal> {
    if entry.reviewed_on > today {
        return Err(Refusal::Invalid("reviewed_on", "is not in the future".into()));
    }
    let year_on = entry
        .reviewed_on
        .checked_add_months(Months::new(12))
        .ok_or_else(|| Refusal::Invalid("reviewed_on", "is a date".into()))?;
    let next_review_by = entry.next_review_by.unwrap_or(year_on);
    if next_review_by <= entry.reviewed_on || next_review_by > year_on {
        return Err(Refusal::Invalid(
            "next_review_by",
            "is after the review and within a year of it (reviews are at least yearly)".into(),
        ));
    }
    let record = entry.record;
    let required = |field: &'static str, value: &str| text(field, value, true).map(Option::unwrap_or_default);
    let participants = RoleHolders {
        senior_leader: name(
            "participants.senior_leader",
            record.participants.senior_leader.as_deref(),
        )?,
        governor: name("participants.governor", record.participants.governor.as_deref())?,
        dsl: name("participants.dsl", record.participants.dsl.as_deref())?,
        it_provider: name(
            "participants.it_provider",
            record.participants.it_provider.as_deref(),
        )?,
    };
    for (field, holder) in [
        ("participants.senior_leader", &participants.senior_leader),
        ("participants.dsl", &participants.dsl),
        ("participants.it_provider", &participants.it_provider),
    ] {
        if holder.is_none() {
            return Err(Refusal::Invalid(
                field,
                "takes part: the review is by senior leaders, the DSL and the IT provider".into(),
            ));
        }
    }
    if record.actions.len() > MAX_ACTIONS {
        return Err(Refusal::Invalid("actions", format!("are at most {MAX_ACTIONS}")));
    }
    let actions = record
        .actions
        .iter()
        .map(|action| required("actions", action))
        .collect::<Result<Vec<_>, _>>()?;
    let record = ReviewRecord {
        participants,
        risk_profile: RiskProfile {
            ages: required("risk_profile.ages", &record.risk_profile.ages)?,
            send: required("risk_profile.send", &record.risk_profile.send)?,
            eal: required("risk_profile.eal", &record.risk_profile.eal)?,
            other: optional("risk_profile.other", record.risk_profile.other.as_deref())?,
        },
        byod: required("byod", &record.byod)?,
        ai: required("ai", &record.ai)?,
        provision: required("provision", &record.provision)?,
        actions,
    };
    Ok((record, next_review_by))
}

/// Where a school stands with its duties.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DutyStatus {
    pub roles_missing: Vec<DutyRole>,
    pub last_check_at: Option<DateTime<Utc>>,
    /// Never checked, or no check within a term.
    pub check_due: bool,
    pub last_reviewed_on: Option<NaiveDate>,
    pub next_review_by: Option<NaiveDate>,
    /// Never reviewed, or its next review's date has passed.
    pub review_overdue: bool,
}

/// The school's standing at `now`, from what it has named, its latest check (when, and when the next
/// is due) and its latest review (when, and when the next is due).
pub fn status(
    named: &[DutyRole],
    last_check: Option<(DateTime<Utc>, DateTime<Utc>)>,
    last_review: Option<(NaiveDate, NaiveDate)>,
    now: DateTime<Utc>,
) -> DutyStatus {
    let roles_missing = [
        DutyRole::SeniorLeader,
        DutyRole::Governor,
        DutyRole::Dsl,
        DutyRole::ItProvider,
    ]
    .into_iter()
    .filter(|role| !named.contains(role))
    .collect();
    DutyStatus {
        roles_missing,
        last_check_at: last_check.map(|(at, _)| at),
        check_due: last_check.is_none_or(|(_, due)| now > due),
        last_reviewed_on: last_review.map(|(on, _)| on),
        next_review_by: last_review.map(|(_, by)| by),
        review_overdue: last_review.is_none_or(|(_, by)| now.date_naive() > by),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn check(result: CheckResult, actions: Option<&str>) -> CheckEntry {
        CheckEntry {
            checked_at: None,
            checked_by: "J. Okafor (IT)".into(),
            what_tested: "testfiltering.com from a Year 5 laptop".into(),
            result,
            actions: actions.map(Into::into),
        }
    }

    fn review() -> ReviewEntry {
        ReviewEntry {
            reviewed_on: day(2026, 10, 1),
            next_review_by: None,
            record: ReviewRecord {
                participants: RoleHolders {
                    senior_leader: Some("A. Head".into()),
                    governor: None,
                    dsl: Some("B. Lead".into()),
                    it_provider: Some("TalkStraight".into()),
                },
                risk_profile: RiskProfile {
                    ages: "4-11".into(),
                    send: "Resourced provision for 12 pupils".into(),
                    eal: "18%".into(),
                    other: None,
                },
                byod: "Not allowed for pupils".into(),
                ai: "Chatbots blocked for pupils".into(),
                provision: "Lightspeed filtering, Smoothwall monitoring".into(),
                actions: vec!["Termly checks from KS1 devices".into()],
            },
        }
    }

    #[test]
    fn a_check_that_did_not_pass_says_what_follows() {
        assert!(log_check(check(CheckResult::Passed, None), Uuid::now_v7(), now()).is_ok());
        assert!(matches!(
            log_check(check(CheckResult::Failed, None), Uuid::now_v7(), now()),
            Err(Refusal::Invalid("actions", _))
        ));
        let logged = log_check(
            check(CheckResult::Partly, Some("Ticket raised")),
            Uuid::now_v7(),
            now(),
        )
        .unwrap();
        assert_eq!(logged.checked_at, now(), "a check without a time is now");
    }

    #[test]
    fn a_check_is_not_logged_ahead_of_time() {
        let ahead = CheckEntry {
            checked_at: Some(now() + Duration::hours(1)),
            ..check(CheckResult::Passed, None)
        };
        assert!(matches!(
            log_check(ahead, Uuid::now_v7(), now()),
            Err(Refusal::Invalid("checked_at", _))
        ));
    }

    #[test]
    fn a_review_is_by_the_three_roles_and_the_next_is_within_a_year() {
        let (_, next) = check_review(review(), now().date_naive()).unwrap();
        assert_eq!(next, day(2027, 10, 1));
        let mut without_dsl = review();
        without_dsl.record.participants.dsl = Some("  ".into());
        assert!(matches!(
            check_review(without_dsl, now().date_naive()),
            Err(Refusal::Invalid("participants.dsl", _))
        ));
        let late = ReviewEntry {
            next_review_by: Some(day(2027, 12, 1)),
            ..review()
        };
        assert!(matches!(
            check_review(late, now().date_naive()),
            Err(Refusal::Invalid("next_review_by", _))
        ));
        let mut no_ai = review();
        no_ai.record.ai = String::new();
        assert!(matches!(
            check_review(no_ai, now().date_naive()),
            Err(Refusal::Invalid("ai", _))
        ));
    }

    /// A check at `at`, as logged: when, and when the next is due.
    fn checked(at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let entry = CheckEntry {
            checked_at: Some(at),
            ..check(CheckResult::Passed, None)
        };
        let logged = log_check(entry, Uuid::now_v7(), now()).unwrap();
        (logged.checked_at, logged.next_check_by)
    }

    #[test]
    fn the_standing_flags_missing_roles_a_check_due_and_an_overdue_review() {
        let fresh = status(
            &[
                DutyRole::SeniorLeader,
                DutyRole::Governor,
                DutyRole::Dsl,
                DutyRole::ItProvider,
            ],
            Some(checked(now() - Duration::days(30))),
            Some((day(2026, 10, 1), day(2027, 10, 1))),
            now(),
        );
        assert!(fresh.roles_missing.is_empty() && !fresh.check_due && !fresh.review_overdue);
        let stale = status(
            &[DutyRole::Dsl],
            Some(checked(now() - Duration::days(CHECK_WITHIN_DAYS + 1))),
            Some((day(2025, 10, 1), day(2026, 10, 1))),
            now(),
        );
        assert_eq!(
            stale.roles_missing,
            [DutyRole::SeniorLeader, DutyRole::Governor, DutyRole::ItProvider]
        );
        assert!(stale.check_due && stale.review_overdue);
        let never = status(&[], None, None, now());
        assert!(never.check_due && never.review_overdue);
    }
}
