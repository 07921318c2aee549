//! Filtering breaches: the read model fed from `trustsafe.filtering.v1` (consumer group
//! `reporting.breaches`), and the trust lead's figures read from it.

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use trustsafe_events::aup::RosterKind;
use trustsafe_events::filtering::{
    BreachAttributed, BreachEscalated, BreachParentsInformed, BreachRecorded, BreachResolved,
    BreachSeenAgain, BreachSource, BreachTriaged, Verdict,
};
use trustsafe_events::{Envelope, Event, topics};
use trustsafe_eventstore::{HandlerError, Projection};
use trustsafe_problem::Problem;

use super::unavailable;
use crate::domain::breaches::{BreachFigures, figures};
use crate::domain::periods::Days;
use crate::store::breaches::{self as store, Moment, NewBreach};

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
            _ => {}
        }
        Ok(())
    }

    async fn reset(&self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        store::reset(tx).await
    }
}

/// The schools' filtering figures for `days`, per school and in total.
pub async fn breach_figures(
    pool: &PgPool,
    schools: &[String],
    days: Days,
) -> Result<(std::collections::BTreeMap<String, BreachFigures>, BreachFigures), Problem> {
    let (in_period, open) = store::facts(pool, schools, days).await.map_err(unavailable)?;
    let (mut per_school, total) = figures(&in_period, &open, days, Utc::now());
    for school in schools {
        per_school.entry(school.clone()).or_default();
    }
    Ok((per_school, total))
}
