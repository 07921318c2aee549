//! Filtering breaches and the schools' filtering duties: the read model fed from
//! `trustsafe.filtering.v1` (consumer group `reporting.breaches`), and the trust lead's figures read
//! from it.

use std::collections::BTreeMap;

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use trustsafe_events::aup::RosterKind;
use trustsafe_events::filtering::duties::{
    DutyRole, DutyRolesNamed, FilterChangeApplied, FilterChangeDecided, FilterChangeProposed,
    FilterCheckLogged, FilteringReviewRecorded,
};
use trustsafe_events::filtering::{
    BreachAttributed, BreachEscalated, BreachParentsInformed, BreachRecorded, BreachResolved,
    BreachSeenAgain, BreachSource, BreachTriaged, Verdict,
};
use trustsafe_events::{Envelope, Event, topics};
use trustsafe_eventstore::{HandlerError, Projection};
use trustsafe_problem::Problem;

use super::unavailable;
use crate::domain::breaches::figures;
use crate::domain::filtering_duties::{DutyStanding, standing};
use crate::domain::patterns::{Pattern, patterns};
use crate::domain::periods::Days;
use crate::domain::suppression::{Detail, ShownBreaches, show};
use crate::store::breaches::{self as store, Moment, NewBreach};
use crate::store::filtering_duties as duties;

pub struct BreachFacts;

impl BreachFacts {
    pub const NAME: &str = "reporting.breaches";
}

fn source_name(source: BreachSource) -> &'static str {
    match source {
        BreachSource::Log => "log",
        BreachSource::Alert => "alert",
        BreachSource::Report => "report",
    }
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Genuine => "genuine",
        Verdict::FalsePositive => "false_positive",
        Verdict::OverBlocking => "over_blocking",
    }
}

impl Projection for BreachFacts {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn topics(&self) -> Vec<String> {
        vec![topics::FILTERING.to_owned()]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            BreachRecorded::TYPE => {
                let recorded: BreachRecorded = event.decode()?;
                let school_id = event
                    .school_id
                    .as_deref()
                    .ok_or_else(|| HandlerError::Reject("a breach belongs to a school".into()))?;
                let breach = NewBreach {
                    breach_id: recorded.breach_id,
                    trust_id: &event.trust_id,
                    school_id,
                    category: &recorded.category,
                    severity: recorded.severity,
                    source: source_name(recorded.source),
                    first_seen: recorded.first_seen,
                    recorded_at: event.occurred_at,
                    pupil: recorded
                        .involved
                        .is_some_and(|involved| involved.kind == RosterKind::Pupil),
                    year_group: recorded.involved.and_then(|involved| involved.year_group),
                    triage_by: recorded.triage_by,
                    host_key: recorded.host_key.as_deref(),
                };
                store::insert(tx, &breach).await?;
            }
            BreachSeenAgain::TYPE => {
                let seen: BreachSeenAgain = event.decode()?;
                store::seen_again(tx, seen.breach_id, seen.severity, seen.triage_by).await?;
            }
            BreachAttributed::TYPE => {
                let attributed: BreachAttributed = event.decode()?;
                let involved = attributed.involved;
                let pupil = involved.kind == RosterKind::Pupil;
                store::attributed(
                    tx,
                    attributed.breach_id,
                    pupil,
                    involved.year_group,
                    attributed.parents_by,
                )
                .await?;
            }
            BreachTriaged::TYPE => {
                let triaged: BreachTriaged = event.decode()?;
                let verdict = verdict_name(triaged.verdict);
                store::triaged(
                    tx,
                    triaged.breach_id,
                    verdict,
                    event.occurred_at,
                    triaged.parents_by,
                )
                .await?;
            }
            BreachParentsInformed::TYPE => {
                let told: BreachParentsInformed = event.decode()?;
                store::happened(tx, told.breach_id, Moment::ParentsInformed, event.occurred_at).await?;
            }
            BreachEscalated::TYPE => {
                let escalated: BreachEscalated = event.decode()?;
                store::escalated(tx, escalated.breach_id).await?;
            }
            BreachResolved::TYPE => {
                let resolved: BreachResolved = event.decode()?;
                store::happened(tx, resolved.breach_id, Moment::Resolved, event.occurred_at).await?;
            }
            // Category and suppression rules change no figure.
            _ => apply_duty(tx, event).await?,
        }
        Ok(())
    }

    /// Breaches, and the filtering duties' steps.
    fn tables(&self) -> &[&str] {
        &["breaches", "filtering_duties", "filter_changes"]
    }
}

/// A school's filtering duty: roles named, a check, a review, a change's step.
async fn apply_duty(tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
    let Some(school_id) = event.school_id.as_deref() else {
        return Ok(());
    };
    let trust_id = event.trust_id.as_str();
    match event.event_type.as_str() {
        DutyRolesNamed::TYPE => {
            let named: DutyRolesNamed = event.decode()?;
            let named: Vec<String> = named.named.iter().map(role_name).collect();
            duties::roles_named(tx, trust_id, school_id, &named).await?;
        }
        FilterCheckLogged::TYPE => {
            let check: FilterCheckLogged = event.decode()?;
            duties::checked(tx, trust_id, school_id, check.checked_at, check.next_check_by).await?;
        }
        FilteringReviewRecorded::TYPE => {
            let review: FilteringReviewRecorded = event.decode()?;
            duties::reviewed(tx, trust_id, school_id, review.reviewed_on, review.next_review_by).await?;
        }
        FilterChangeProposed::TYPE => {
            let proposed: FilterChangeProposed = event.decode()?;
            duties::change(tx, school_id, proposed.change_id, "proposed").await?;
        }
        FilterChangeDecided::TYPE => {
            let decided: FilterChangeDecided = event.decode()?;
            let state = if decided.approved { "approved" } else { "rejected" };
            duties::change(tx, school_id, decided.change_id, state).await?;
        }
        FilterChangeApplied::TYPE => {
            let applied: FilterChangeApplied = event.decode()?;
            duties::change(tx, school_id, applied.change_id, "applied").await?;
        }
        _ => {}
    }
    Ok(())
}

fn role_name(role: &DutyRole) -> String {
    match role {
        DutyRole::SeniorLeader => "senior_leader",
        DutyRole::Governor => "governor",
        DutyRole::Dsl => "dsl",
        DutyRole::ItProvider => "it_provider",
    }
    .to_owned()
}

/// The same host or alert category at two of `schools` within a week, seen in `days`.
pub async fn cross_school_patterns(
    pool: &PgPool,
    schools: &[String],
    days: Days,
) -> Result<Vec<Pattern>, Problem> {
    let sightings = store::sightings(pool, schools, days).await.map_err(unavailable)?;
    let (from, to) = days;
    Ok(patterns(sightings)
        .into_iter()
        .filter(|pattern| pattern.last_seen.date_naive() >= from && pattern.first_seen.date_naive() <= to)
        .collect())
}

/// Where each of `schools` stands with its filtering duties, now.
pub async fn duty_standing(
    pool: &PgPool,
    schools: &[String],
) -> Result<BTreeMap<String, DutyStanding>, Problem> {
    let facts = duties::facts(pool, schools).await.map_err(unavailable)?;
    let now = Utc::now();
    Ok(schools
        .iter()
        .map(|school| {
            let fact = facts
                .iter()
                .find(|fact| &fact.school_id == school)
                .cloned()
                .unwrap_or_default();
            (school.clone(), standing(&fact, now))
        })
        .collect())
}

/// The schools' filtering figures for `days`, per school and in total, as `detail` allows.
pub async fn breach_figures(
    pool: &PgPool,
    schools: &[String],
    days: Days,
    detail: Detail,
) -> Result<(BTreeMap<String, ShownBreaches>, ShownBreaches), Problem> {
    let (in_period, open) = store::facts(pool, schools, days).await.map_err(unavailable)?;
    let (mut per_school, total) = figures(&in_period, &open, days, Utc::now());
    for school in schools {
        per_school.entry(school.clone()).or_default();
    }
    Ok(show(&per_school, &total, detail))
}
