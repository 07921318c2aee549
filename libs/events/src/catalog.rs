//! Every event type of the platform, so schemas, the AsyncAPI document and consumers can enumerate them.

use schemars::{JsonSchema, Schema};
use serde::{Serialize, de::DeserializeOwned};

/// An event payload. `TYPE` is the versioned wire name (`ce_type`), `TOPIC` where it is published.
pub trait Event: Serialize + DeserializeOwned + JsonSchema {
    const TYPE: &'static str;
    const TOPIC: &'static str;
    /// One line for the AsyncAPI document.
    const SUMMARY: &'static str;
    /// The type that replaced this one, if any: producers no longer publish it, consumers still read it.
    const SUPERSEDED_BY: Option<&'static str> = None;
}

/// What the catalog knows of one event type.
pub struct EventKind {
    pub event_type: &'static str,
    pub topic: &'static str,
    pub summary: &'static str,
    pub superseded_by: Option<&'static str>,
    pub schema: fn() -> Schema,
}

fn kind<E: Event>() -> EventKind {
    EventKind {
        event_type: E::TYPE,
        topic: E::TOPIC,
        summary: E::SUMMARY,
        superseded_by: E::SUPERSEDED_BY,
        schema: || {
            schemars::generate::SchemaSettings::draft07()
                .into_generator()
                .into_root_schema_for::<E>()
        },
    }
}

/// All event types, in a stable order.
pub fn catalog() -> Vec<EventKind> {
    use crate::{audit, aup, filtering, incident};
    vec![
        kind::<audit::RecordReadV1>(),
        kind::<audit::RecordRead>(),
        kind::<incident::IncidentReportedV1>(),
        kind::<incident::IncidentReportedV2>(),
        kind::<incident::IncidentReported>(),
        kind::<incident::IncidentAcknowledged>(),
        kind::<incident::IncidentStepCompleted>(),
        kind::<incident::IncidentReferralRecorded>(),
        kind::<incident::IncidentNoteAdded>(),
        kind::<incident::IncidentEscalatedToTrust>(),
        kind::<incident::IncidentClosed>(),
        kind::<incident::IncidentReopened>(),
        kind::<incident::WorkflowChangedV1>(),
        kind::<incident::WorkflowChanged>(),
        kind::<filtering::BreachRecorded>(),
        kind::<filtering::BreachSeenAgain>(),
        kind::<filtering::BreachAttributed>(),
        kind::<filtering::BreachTriaged>(),
        kind::<filtering::BreachParentsInformed>(),
        kind::<filtering::BreachEscalated>(),
        kind::<filtering::BreachResolved>(),
        kind::<filtering::CategoryRulesSet>(),
        kind::<filtering::SuppressionsSet>(),
        kind::<filtering::duties::FilterChangeProposed>(),
        kind::<filtering::duties::FilterChangeAssessed>(),
        kind::<filtering::duties::FilterChangeDecided>(),
        kind::<filtering::duties::FilterChangeApplied>(),
        kind::<filtering::duties::DutyRolesNamed>(),
        kind::<filtering::duties::FilterCheckLogged>(),
        kind::<filtering::duties::FilteringReviewRecorded>(),
        kind::<aup::PersonRecorded>(),
        kind::<aup::PersonRemoved>(),
        kind::<aup::AupPublished>(),
        kind::<aup::AgreementRecordedV1>(),
        kind::<aup::AgreementRecorded>(),
        kind::<aup::AccessGranted>(),
        kind::<aup::AccessRevoked>(),
        kind::<aup::DeviceLent>(),
        kind::<aup::DeviceReturned>(),
        kind::<aup::VisitorAgreed>(),
    ]
}

pub fn kind_of(event_type: &str) -> Option<EventKind> {
    catalog().into_iter().find(|kind| kind.event_type == event_type)
}
