//! The school's roster as the log tells it (consumer group `incident.roster`, `trustsafe.aup.v1`):
//! each person's id, school and kind, so that a report may name someone picked from the roster. Nothing
//! else about a person is kept here.

use sqlx::PgConnection;
use trustsafe_events::aup::{PersonRecorded, PersonRemoved};
use trustsafe_events::{Envelope, Event, topics};
use trustsafe_eventstore::{HandlerError, Projection};

use crate::store::roster;

pub struct Roster;

impl Roster {
    pub const NAME: &str = "incident.roster";
}

impl Projection for Roster {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn topics(&self) -> Vec<String> {
        vec![topics::AUP.to_owned()]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            PersonRecorded::TYPE => {
                let person: PersonRecorded = event.decode()?;
                let school_id = event
                    .school_id
                    .as_deref()
                    .ok_or_else(|| HandlerError::Reject("a person is on a school's roster".into()))?;
                roster::recorded(tx, person.person_id, school_id, person.kind).await?;
            }
            PersonRemoved::TYPE => {
                let removed: PersonRemoved = event.decode()?;
                roster::removed(tx, removed.person_id).await?;
            }
            // Policies, agreements and access are the aup service's and reporting's business.
            _ => {}
        }
        Ok(())
    }

    fn tables(&self) -> &[&str] {
        roster::TABLES
    }
}
