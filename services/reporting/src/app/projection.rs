//! The read model of concerns, fed from `trustsafe.incident.v1`. Each event is applied once (the
//! consumer kit deduplicates by event id in the same transaction); a stream's events arrive in order.

use std::sync::Arc;

use sqlx::PgConnection;
use trustsafe_events::incident::{
    IncidentAcknowledged, IncidentClosed, IncidentEscalatedToTrust, IncidentReopened, IncidentReported,
    IncidentReportedV1, IncidentStepCompleted,
};
use trustsafe_events::{Envelope, Event, topics};
use trustsafe_eventstore::{HandlerError, Projection};
use trustsafe_servicekit::{PseudonymKey, Purpose};
use uuid::Uuid;

use crate::domain::audience::school_staff_may_count;
use crate::store::projection::{self as store, Counted, NewConcern, Rollup};

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

    async fn reported(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let reported = IncidentReported::read(event)?;
        let school_id = event
            .school_id
            .as_deref()
            .ok_or_else(|| HandlerError::Reject("a concern belongs to a school".into()))?;
        let category = reported.category.id();
        let handled_by = reported.handled_by.id();
        let concern = NewConcern {
            incident_id: reported.incident_id,
            trust_id: &event.trust_id,
            school_id,
            category,
            pseudonym: self.pseudonym(&event.trust_id, reported.incident_id),
            reported_at: event.occurred_at,
            acknowledge_by: reported.acknowledge_by,
            handled_by,
            alleged: &reported.alleged,
        };
        if !store::insert_concern(tx, &concern).await? {
            return Ok(());
        }
        let rollup = Rollup {
            school_id,
            school_sees: school_staff_may_count(handled_by),
        };
        store::count(tx, &rollup, event.occurred_at, category, Counted::Reported(1)).await?;
        let steps: Vec<_> = reported
            .steps
            .iter()
            .map(|step| (step.step_id.as_str(), step.due_at))
            .collect();
        store::insert_steps(tx, reported.incident_id, school_id, &steps).await?;
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
            store::count(tx, &rollup, closed.closed_at, &category, Counted::Closed(1)).await?;
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
            store::count(tx, &rollup, closed_at, &category, Counted::Closed(-1)).await?;
            store::steps_of_open_concern(tx, reopened.incident_id, true).await?;
        }
        Ok(())
    }
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
            IncidentReported::TYPE | IncidentReportedV1::TYPE => self.reported(tx, event).await,
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

    async fn reset(&self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        store::reset(tx).await
    }
}
