//! Acceptable use across the trust's schools: the read model fed from `trustsafe.aup.v1` (consumer
//! group `reporting.acceptable_use`), and the figures read from it.

use std::collections::BTreeMap;

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use trustsafe_events::aup::{
    AccessGranted, AccessRevoked, AgreementRecorded, AupPublished, PersonRecorded, PersonRemoved,
    VisitorAgreed,
};
use trustsafe_events::{Envelope, Event, topics};
use trustsafe_eventstore::{HandlerError, Projection};
use trustsafe_problem::Problem;

use super::unavailable;
use crate::domain::acceptable_use::figures;
use crate::domain::periods::Days;
use crate::domain::suppression::{Detail, ShownAcceptableUse, show};
use crate::store::acceptable_use as store;

pub struct AcceptableUseFacts;

impl AcceptableUseFacts {
    pub const NAME: &str = "reporting.acceptable_use";
}

fn school_of(event: &Envelope) -> Result<&str, HandlerError> {
    event
        .school_id
        .as_deref()
        .ok_or_else(|| HandlerError::Reject(format!("{} belongs to a school", event.event_type)))
}

impl Projection for AcceptableUseFacts {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn topics(&self) -> Vec<String> {
        vec![topics::AUP.to_owned()]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            PersonRecorded::TYPE => {
                let mut person: PersonRecorded = event.decode()?;
                // Reporting counts people; it needs neither what names them nor their accounts.
                person.restricted = None;
                person.account_hashes.clear();
                store::person(tx, school_of(event)?, &person).await?;
            }
            PersonRemoved::TYPE => {
                let removed: PersonRemoved = event.decode()?;
                store::person_removed(tx, removed.person_id).await?;
            }
            AupPublished::TYPE => {
                let mut published: AupPublished = event.decode()?;
                published.restricted = None;
                store::policy(tx, &event.trust_id, &published).await?;
            }
            answer if AgreementRecorded::is(answer) => {
                let answer = AgreementRecorded::read(event)?;
                store::answer(tx, school_of(event)?, &answer).await?;
            }
            AccessGranted::TYPE => {
                let granted: AccessGranted = event.decode()?;
                let school_id = school_of(event)?;
                store::granted(
                    tx,
                    school_id,
                    granted.grant_id,
                    granted.person_id,
                    granted.granted_at,
                )
                .await?;
            }
            AccessRevoked::TYPE => {
                let revoked: AccessRevoked = event.decode()?;
                store::revoked(tx, revoked.grant_id).await?;
            }
            VisitorAgreed::TYPE => {
                let visitor: VisitorAgreed = event.decode()?;
                store::visited(tx, school_of(event)?, visitor.visitor_id, visitor.agreed_at).await?;
            }
            // Device loans change no figure.
            _ => {}
        }
        Ok(())
    }

    fn tables(&self) -> &[&str] {
        store::TABLES
    }
}

/// The acceptable-use figures of `trust_id`'s `schools` (visitors in `days`), per school and in total,
/// as `detail` allows.
pub async fn acceptable_use_figures(
    pool: &PgPool,
    trust_id: &str,
    schools: &[String],
    days: Days,
    detail: Detail,
) -> Result<(BTreeMap<String, ShownAcceptableUse>, ShownAcceptableUse), Problem> {
    let facts = store::facts(pool, trust_id, schools).await.map_err(unavailable)?;
    let (per_school, total) = figures(&facts, schools, days, Utc::now());
    Ok(show(&per_school, &total, detail))
}
