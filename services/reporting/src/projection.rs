//! The read model of concerns, fed from `trustsafe.incident.v1`. Each event is applied once (the
//! consumer kit deduplicates by event id in the same transaction); a stream's events arrive in order.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use trustsafe_events::incident::{
    HandledBy, IncidentAcknowledged, IncidentClosed, IncidentEscalatedToTrust, IncidentReopened,
    IncidentReported, IncidentReportedV1, IncidentStepCompleted,
};
use trustsafe_events::{Envelope, Event, topics};
use trustsafe_eventstore::{HandlerError, Projection};
use trustsafe_servicekit::{PseudonymKey, Purpose};
use uuid::Uuid;

pub struct Concerns {
    /// Keys each case's pseudonym (per trust), so holding a case's id tells nothing of it.
    pub pseudonyms: Arc<PseudonymKey>,
}

impl Concerns {
    pub const NAME: &str = "reporting.concerns";

    /// A case's stable pseudonym, e.g. `K7Q2-9XMP-3TZA`: 60 bits of a keyed hash of its id within
    /// its trust, the same through every rebuild under the same secret, and (at a million cases)
    /// without collisions in practice.
    pub fn pseudonym(&self, trust_id: &str, incident_id: Uuid) -> String {
        self.pseudonyms
            .pseudonym(Purpose::Case, trust_id, incident_id.as_bytes())
    }
}

impl Projection for Concerns {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn topics(&self) -> Vec<String> {
        vec![topics::INCIDENT.to_owned()]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            IncidentReported::TYPE | IncidentReportedV1::TYPE => {
                let reported = IncidentReported::read(event)?;
                let school_id = event
                    .school_id
                    .as_deref()
                    .ok_or_else(|| HandlerError::Reject("a concern belongs to a school".into()))?;
                let category = reported.category.id();
                let inserted = sqlx::query(
                    "INSERT INTO concerns (incident_id, trust_id, school_id, category, status, pseudonym,
                                           reported_at, acknowledge_by, handled_by, alleged)
                     VALUES ($1, $2, $3, $4, 'reported', $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                )
                .bind(reported.incident_id)
                .bind(&event.trust_id)
                .bind(school_id)
                .bind(category)
                .bind(self.pseudonym(&event.trust_id, reported.incident_id))
                .bind(event.occurred_at)
                .bind(reported.acknowledge_by)
                .bind(reported.handled_by.id())
                .bind(&reported.alleged)
                .execute(&mut *tx)
                .await?;
                if inserted.rows_affected() == 0 {
                    return Ok(());
                }
                let rollup = Rollup {
                    school_id,
                    school_sees: school_sees(reported.handled_by),
                };
                count(tx, &rollup, event.occurred_at, category, Counted::Reported(1)).await?;
                let ids: Vec<&str> = reported.steps.iter().map(|step| step.step_id.as_str()).collect();
                let due: Vec<_> = reported.steps.iter().map(|step| step.due_at).collect();
                sqlx::query(
                    "INSERT INTO concern_steps (incident_id, school_id, step_id, due_at)
                     SELECT $1, $2, step_id, due_at FROM UNNEST($3::text[], $4::timestamptz[]) AS s(step_id, due_at)
                     ON CONFLICT DO NOTHING",
                )
                .bind(reported.incident_id)
                .bind(school_id)
                .bind(&ids)
                .bind(&due)
                .execute(&mut *tx)
                .await?;
            }
            IncidentAcknowledged::TYPE => {
                let acknowledged: IncidentAcknowledged = event.decode()?;
                let concern: Option<(String, bool, DateTime<Utc>)> = sqlx::query_as(
                    "UPDATE concerns SET acknowledged_at = $2, status = 'acknowledged'
                      WHERE incident_id = $1 AND status = 'reported'
                  RETURNING school_id, handled_by <> 'trust_lead', reported_at",
                )
                .bind(acknowledged.incident_id)
                .bind(acknowledged.acknowledged_at)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some((school_id, school_sees, reported_at)) = concern {
                    sqlx::query(
                        "INSERT INTO monthly_acknowledgements (school_id, month, school_sees, buckets)
                         VALUES ($1, date_trunc('month', $2 AT TIME ZONE 'UTC')::date, $3, array_fill(0, ARRAY[280]))
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(&school_id)
                    .bind(reported_at)
                    .bind(school_sees)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "UPDATE monthly_acknowledgements SET buckets[slot] = buckets[slot] + 1
                           FROM acknowledgement_bucket(floor(extract(epoch FROM $3 - $2) / 60)::integer) AS slot
                          WHERE school_id = $1 AND month = date_trunc('month', $2 AT TIME ZONE 'UTC')::date
                            AND school_sees = $4",
                    )
                    .bind(&school_id)
                    .bind(reported_at)
                    .bind(acknowledged.acknowledged_at)
                    .bind(school_sees)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            IncidentStepCompleted::TYPE => {
                let completed: IncidentStepCompleted = event.decode()?;
                sqlx::query(
                    "UPDATE concern_steps SET completed_at = $3 WHERE incident_id = $1 AND step_id = $2",
                )
                .bind(completed.incident_id)
                .bind(&completed.step_id)
                .bind(completed.completed_at)
                .execute(&mut *tx)
                .await?;
            }
            IncidentEscalatedToTrust::TYPE => {
                let escalated: IncidentEscalatedToTrust = event.decode()?;
                sqlx::query("UPDATE concerns SET escalated = true WHERE incident_id = $1")
                    .bind(escalated.incident_id)
                    .execute(&mut *tx)
                    .await?;
            }
            IncidentClosed::TYPE => {
                let closed: IncidentClosed = event.decode()?;
                let concern: Option<(String, bool, String)> = sqlx::query_as(
                    "UPDATE concerns SET status = 'closed', closed_at = $2
                      WHERE incident_id = $1 AND status <> 'closed'
                  RETURNING school_id, handled_by <> 'trust_lead', category",
                )
                .bind(closed.incident_id)
                .bind(closed.closed_at)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some((school_id, school_sees, category)) = concern {
                    let rollup = Rollup {
                        school_id: &school_id,
                        school_sees,
                    };
                    count(tx, &rollup, closed.closed_at, &category, Counted::Closed(1)).await?;
                    steps_of_open_concern(tx, closed.incident_id, false).await?;
                }
            }
            IncidentReopened::TYPE => {
                let reopened: IncidentReopened = event.decode()?;
                let concern: Option<(String, bool, String, DateTime<Utc>)> = sqlx::query_as(
                    "WITH previous AS (
                         SELECT incident_id, closed_at FROM concerns
                          WHERE incident_id = $1 AND status = 'closed' FOR UPDATE
                     )
                     UPDATE concerns SET status = 'reopened', closed_at = NULL FROM previous
                      WHERE concerns.incident_id = previous.incident_id
                  RETURNING concerns.school_id, concerns.handled_by <> 'trust_lead', concerns.category,
                            previous.closed_at",
                )
                .bind(reopened.incident_id)
                .fetch_optional(&mut *tx)
                .await?;
                // A reopened concern no longer counts as closed in the month it was closed.
                if let Some((school_id, school_sees, category, closed_at)) = concern {
                    let rollup = Rollup {
                        school_id: &school_id,
                        school_sees,
                    };
                    count(tx, &rollup, closed_at, &category, Counted::Closed(-1)).await?;
                    steps_of_open_concern(tx, reopened.incident_id, true).await?;
                }
            }
            // Referrals, notes and workflows change no figure the trust sees (yet).
            _ => {}
        }
        Ok(())
    }

    async fn reset(&self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::query("TRUNCATE concern_steps, concerns, monthly_counts, monthly_acknowledgements")
            .execute(tx)
            .await?;
        Ok(())
    }
}

enum Counted {
    Reported(i32),
    Closed(i32),
}

/// Which rollup rows a concern counts in: its school's, among the concerns the school's own staff
/// may know of, or among those only the trust may (`domain::audience`).
struct Rollup<'a> {
    school_id: &'a str,
    school_sees: bool,
}

fn school_sees(handled_by: HandledBy) -> bool {
    handled_by != HandledBy::TrustLead
}

/// Adds to a month's count of concerns reported or closed at a school in a category.
async fn count(
    tx: &mut PgConnection,
    Rollup {
        school_id,
        school_sees,
    }: &Rollup<'_>,
    at: DateTime<Utc>,
    category: &str,
    counted: Counted,
) -> Result<(), sqlx::Error> {
    let (reported, closed) = match counted {
        Counted::Reported(n) => (n, 0),
        Counted::Closed(n) => (0, n),
    };
    sqlx::query(
        "INSERT INTO monthly_counts (school_id, month, category, school_sees, reported, closed)
         VALUES ($1, date_trunc('month', $2 AT TIME ZONE 'UTC')::date, $3, $6, $4, $5)
         ON CONFLICT (school_id, month, category, school_sees) DO UPDATE
            SET reported = monthly_counts.reported + EXCLUDED.reported,
                closed = monthly_counts.closed + EXCLUDED.closed",
    )
    .bind(school_id)
    .bind(at)
    .bind(category)
    .bind(reported)
    .bind(closed)
    .bind(school_sees)
    .execute(tx)
    .await?;
    Ok(())
}

/// Only an open concern's steps can be overdue.
async fn steps_of_open_concern(
    tx: &mut PgConnection,
    incident_id: Uuid,
    open: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE concern_steps SET concern_open = $2 WHERE incident_id = $1")
        .bind(incident_id)
        .bind(open)
        .execute(tx)
        .await?;
    Ok(())
}
