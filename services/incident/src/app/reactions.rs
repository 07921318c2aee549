//! What the incident service does about other services' facts: a filtering breach escalated to a
//! concern opens one, exactly once, however often the escalation is delivered.

use std::sync::Arc;

use sqlx::PgConnection;
use trustsafe_events::filtering::{BreachEscalated, EscalationTrigger};
use trustsafe_events::incident::{Category, ConcernSource};
use trustsafe_events::{Actor, Envelope, Event, topics};
use trustsafe_eventstore::{
    AppendContext, AppendError, ExpectedVersion, HandlerError, Projection, StoreError,
};
use trustsafe_servicekit::Tenancy;
use uuid::Uuid;

use crate::domain::concern::{self, Concern, ConcernEvent, NewReport};
use crate::domain::workflow;
use crate::store::ConcernStore;

/// Severity from which a breach is a concern without anyone deciding so.
pub const AUTOMATIC_SEVERITY: u8 = 4;

pub struct BreachEscalations {
    pub store: ConcernStore,
    pub tenancy: Arc<Tenancy>,
}

impl BreachEscalations {
    pub const NAME: &str = "incident.breach-escalations";
}

/// The concern category a filtering category (after the UK Safer Internet Centre's) falls under.
pub fn category_of_breach(filtering_category: &str) -> Category {
    match filtering_category {
        // The IWF list: child sexual abuse images. (Terrorist content is `extremism`.)
        "illegal" => Category::IndecentImagesOfChildren,
        "extremism" => Category::RadicalisationExtremism,
        "discrimination" => Category::OnlineHate,
        "pornography" | "self_harm" | "violence" | "drugs" | "gambling" => Category::InappropriateContent,
        "malware_hacking" => Category::DataSecurity,
        "social_media" => Category::SocialMediaMisuse,
        _ => Category::Other,
    }
}

fn rejected(err: AppendError) -> HandlerError {
    match err {
        AppendError::Store(StoreError::Database(err)) => HandlerError::Database(err),
        other => HandlerError::Reject(other.to_string()),
    }
}

impl Projection for BreachEscalations {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn topics(&self) -> Vec<String> {
        vec![topics::FILTERING.to_owned()]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        if event.event_type != BreachEscalated::TYPE {
            return Ok(());
        }
        let breach: BreachEscalated = event.decode()?;
        if !(1..=5).contains(&breach.severity) {
            return Err(HandlerError::Reject(format!(
                "severity {} is not 1 to 5",
                breach.severity
            )));
        }
        if breach.trigger == EscalationTrigger::Automatic && breach.severity < AUTOMATIC_SEVERITY {
            // Below the threshold only a person's decision makes a breach a concern.
            return Ok(());
        }
        let school_id = event
            .school_id
            .as_deref()
            .ok_or_else(|| HandlerError::Reject("a breach names its school".into()))?;
        let (trust, _) = self
            .tenancy
            .school(school_id)
            .ok_or_else(|| HandlerError::Reject(format!("no school {school_id} in the tenancy")))?;
        let id = Uuid::now_v7();
        if !self.store.claim_breach(tx, breach.breach_id, id).await? {
            return Ok(());
        }
        let (workflow, version) = match self.store.workflow(tx, school_id).await {
            Ok(Some(found)) => found,
            Ok(None) => (workflow::defaults(), 0),
            Err(StoreError::Database(err)) => return Err(err.into()),
            Err(err) => return Err(HandlerError::Reject(err.to_string())),
        };
        let category = category_of_breach(&breach.category);
        let new = NewReport {
            category,
            summary: format!(
                "Filtering breach escalated ({}, severity {})",
                breach.category, breach.severity
            ),
            description: format!(
                "Opened by trustsafe for filtering breach {} ({}, severity {}, escalated {}). Who was \
                 involved, on which device and which address are in the breach's record.",
                breach.breach_id,
                breach.category,
                breach.severity,
                match breach.trigger {
                    EscalationTrigger::Automatic => "automatically",
                    EscalationTrigger::Manual => "by a member of staff",
                }
            ),
            occurred_at: breach.detected_at,
            location: None,
            subject_staff_role: None,
            people: Vec::new(),
            roster: Default::default(),
            device_involved: true,
            immediate_risk: false,
            source: ConcernSource::FilteringBreach {
                breach_id: breach.breach_id,
                severity: breach.severity,
            },
        };
        let now = crate::app::clock::now();
        // A breach names nobody as alleged.
        let reported = concern::report(new, None, (&workflow, version), id, now, &|_| String::new())
            .map_err(|err| HandlerError::Reject(err.to_string()))?;
        let context = AppendContext {
            trust_id: trust.id.clone(),
            school_id: Some(school_id.to_owned()),
            actor: Actor::service("incident"),
            correlation_id: event.correlation_id,
            causation_id: Some(event.event_id),
        };
        let concern = Concern::reported(school_id, reported.clone(), &context.actor, now);
        self.store
            .save_concern(
                tx,
                &concern,
                ExpectedVersion::NoStream,
                &context,
                &[ConcernEvent::Reported(reported)],
                now,
            )
            .await
            .map_err(rejected)
    }

    /// A reaction, not a read model: a replay must not open concerns twice, and `breach_concerns`
    /// remembers every breach already answered, so there is nothing to rebuild.
    fn tables(&self) -> &[&str] {
        &[]
    }
}
