//! Learning the roster's accounts from `trustsafe.aup.v1`, and attributing the breaches recorded
//! before their user joined the roster.

use sqlx::PgConnection;
use trustsafe_events::aup::{PersonRecorded, PersonRemoved};
use trustsafe_events::filtering::Involved;
use trustsafe_events::{Actor, Envelope, Event, topics};
use trustsafe_eventstore::{AppendContext, AppendError, HandlerError, Projection, StoreError};

use crate::domain::breaches::Attribution;
use crate::store::RosterStore;

pub struct RosterAccounts {
    store: RosterStore,
}

impl RosterAccounts {
    pub const NAME: &'static str = "filtering.roster";

    pub fn new(store: RosterStore) -> Self {
        Self { store }
    }
}

fn failed(err: StoreError) -> HandlerError {
    match err {
        StoreError::Database(err) => HandlerError::Database(err),
        other => HandlerError::Reject(other.to_string()),
    }
}

fn school_of(event: &Envelope) -> Result<&str, HandlerError> {
    event
        .school_id
        .as_deref()
        .ok_or_else(|| HandlerError::Reject("a person names their school".into()))
}

impl Projection for RosterAccounts {
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
                let school_id = school_of(event)?;
                let attribution = Attribution {
                    person_id: person.person_id,
                    involved: Involved {
                        kind: person.kind,
                        year_group: person.year_group,
                    },
                };
                self.store
                    .learn(tx, school_id, attribution, &person.account_hashes)
                    .await
                    .map_err(failed)?;
                let context = AppendContext {
                    trust_id: event.trust_id.clone(),
                    school_id: Some(school_id.to_owned()),
                    actor: Actor::service("filtering"),
                    correlation_id: event.correlation_id,
                    causation_id: Some(event.event_id),
                };
                let mut breaches = self
                    .store
                    .unattributed(tx, school_id, &person.account_hashes)
                    .await
                    .map_err(failed)?;
                for (_, _, life) in &mut breaches {
                    life.attributed(person.kind, event.recorded_at);
                }
                self.store
                    .attribute(tx, &context, attribution, &breaches)
                    .await
                    .map_err(|err| match err {
                        AppendError::Store(err) => failed(err),
                        other => HandlerError::Reject(other.to_string()),
                    })?;
                Ok(())
            }
            PersonRemoved::TYPE => {
                let person: PersonRemoved = event.decode()?;
                self.store.forget(tx, person.person_id).await.map_err(failed)?;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn tables(&self) -> &[&str] {
        &["roster_accounts"]
    }
}
