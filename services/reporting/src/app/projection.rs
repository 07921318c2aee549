//! The read model of concerns, fed from `trustsafe.incident.v1`. Each event is applied once (the
//! consumer kit deduplicates by event id in the same transaction); a stream's events arrive in order.

use std::sync::Arc;

use sqlx::PgConnection;
use trustsafe_events::incident::{
    IncidentAcknowledged, IncidentClosed, IncidentEscalatedToTrust, IncidentReopened, IncidentReported,
    IncidentStepCompleted,
};
use trustsafe_events::{Envelope, Event, topics};
use trustsafe_eventstore::{HandlerError, Projection};
use trustsafe_servicekit::{PseudonymKey, Purpose};
use uuid::Uuid;

use crate::domain::audience::school_staff_may_count;
use crate::store::projection::{self as store, Count, Counted, NewConcern, NewStep, Rollup};

pub struct ReadModel {
    /// Keys each case's pseudonym (per trust), so holding a case's id tells nothing of it.
    pub pseudonyms: Arc<PseudonymKey>,
}

impl ReadModel {
    pub const NAME: &str = "reporting.concerns";

    /// A case's stable pseudonym, e.g. `K7Q2-9XMP-3TZA`: 60 bits of a keyed hash of its id within
    /// its trust, the same through every rebuild under the same secret, and (at a million cases)
    /// without collisions in practice.
    pub fn pseudonym(&self, trust_id: &str, incident_id: Uuid) -> String {
        self.pseudonyms
            .pseudonym(Purpose::Case, trust_id, incident_id.as_bytes())
    }

    /// Reports, written together: one statement each for the concerns, their counts and their
    /// steps however many there are (a rebuild hands over a batch's run of them).
    async fn reported(&self, tx: &mut PgConnection, events: &[&Envelope]) -> Result<(), HandlerError> {
        let mut reports = Vec::with_capacity(events.len());
        for event in events {
            let school_id = event
                .school_id
                .as_deref()
                .ok_or_else(|| HandlerError::Reject("a concern belongs to a school".into()))?;
            reports.push((*event, school_id, IncidentReported::read(event)?));
        }
        let concerns: Vec<NewConcern> = reports
            .iter()
            .map(|(event, school_id, reported)| NewConcern {
                incident_id: reported.incident_id,
                trust_id: &event.trust_id,
                school_id,
                category: reported.category.id(),
                pseudonym: self.pseudonym(&event.trust_id, reported.incident_id),
                reported_at: event.occurred_at,
                acknowledge_by: reported.acknowledge_by,
                handled_by: reported.handled_by.id(),
                alleged: &reported.alleged,
            })
            .collect();
        let mut new = store::insert_concerns(tx, &concerns).await?;
        // A concern reported twice in one batch is counted once.
        let reports: Vec<_> = reports
            .iter()
            .filter(|(_, _, reported)| new.remove(&reported.incident_id))
            .collect();
        if reports.is_empty() {
            return Ok(());
        }
        let counts: Vec<Count> = reports
            .iter()
            .map(|(event, school_id, reported)| Count {
                rollup: Rollup {
                    school_id,
                    school_sees: school_staff_may_count(reported.handled_by.id()),
                },
                at: event.occurred_at,
                category: reported.category.id(),
                counted: Counted::Reported(1),
            })
            .collect();
        store::count(tx, &counts).await?;
        let steps: Vec<NewStep> = reports
            .iter()
            .flat_map(|(_, school_id, reported)| {
                reported.steps.iter().map(|step| NewStep {
                    incident_id: reported.incident_id,
                    school_id,
                    step_id: &step.step_id,
                    due_at: step.due_at,
                })
            })
            .collect();
        store::insert_steps(tx, &steps).await?;
        Ok(())
    }

    async fn acknowledged(tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let acknowledged: IncidentAcknowledged = event.decode()?;
        let at = acknowledged.acknowledged_at;
        if let Some((school_id, school_sees, reported_at)) =
            store::acknowledge(tx, acknowledged.incident_id, at).await?
        {
            let rollup = Rollup {
                school_id: &school_id,
                school_sees,
            };
            store::count_acknowledgement(tx, &rollup, reported_at, at).await?;
        }
        Ok(())
    }

    async fn closed(tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let closed: IncidentClosed = event.decode()?;
        if let Some((school_id, school_sees, category)) =
            store::close(tx, closed.incident_id, closed.closed_at).await?
        {
            let rollup = Rollup {
                school_id: &school_id,
                school_sees,
            };
            let count = Count {
                rollup,
                at: closed.closed_at,
                category: &category,
                counted: Counted::Closed(1),
            };
            store::count(tx, &[count]).await?;
            store::steps_of_open_concern(tx, closed.incident_id, false).await?;
        }
        Ok(())
    }

    async fn reopened(tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let reopened: IncidentReopened = event.decode()?;
        // A reopened concern no longer counts as closed in the month it was closed.
        if let Some((school_id, school_sees, category, closed_at)) =
            store::reopen(tx, reopened.incident_id).await?
        {
            let rollup = Rollup {
                school_id: &school_id,
                school_sees,
            };
            let count = Count {
                rollup,
                at: closed_at,
                category: &category,
                counted: Counted::Closed(-1),
            };
            store::count(tx, &[count]).await?;
            store::steps_of_open_concern(tx, reopened.incident_id, true).await?;
        }
        Ok(())
    }
}

fn is_report(event: &Envelope) -> bool {
    IncidentReported::is(&event.event_type)
}

impl Projection for ReadModel {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn topics(&self) -> Vec<String> {
        vec![topics::INCIDENT.to_owned()]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            _ if is_report(event) => self.reported(tx, &[event]).await,
            IncidentAcknowledged::TYPE => Self::acknowledged(tx, event).await,
            IncidentStepCompleted::TYPE => {
                let completed: IncidentStepCompleted = event.decode()?;
                store::complete_step(
                    tx,
                    completed.incident_id,
                    &completed.step_id,
                    completed.completed_at,
                )
                .await?;
                Ok(())
            }
            IncidentEscalatedToTrust::TYPE => {
                let escalated: IncidentEscalatedToTrust = event.decode()?;
                store::escalate(tx, escalated.incident_id).await?;
                Ok(())
            }
            IncidentClosed::TYPE => Self::closed(tx, event).await,
            IncidentReopened::TYPE => Self::reopened(tx, event).await,
            // Referrals, notes and workflows change no figure the trust sees (yet).
            _ => Ok(()),
        }
    }

    async fn apply_batch(&self, tx: &mut PgConnection, events: &[&Envelope]) -> Result<(), HandlerError> {
        // Each run of reports together, everything else in its place.
        let mut rest = events;
        while let Some(first) = rest.first() {
            let reports = rest.iter().take_while(|event| is_report(event)).count();
            if reports > 0 {
                self.reported(tx, &rest[..reports]).await?;
                rest = &rest[reports..];
            } else {
                self.apply(tx, first).await?;
                rest = &rest[1..];
            }
        }
        Ok(())
    }

    fn tables(&self) -> &[&str] {
        store::TABLES
    }
}
