//! The Kafka contract of trustsafe: the event envelope, every event payload, their CloudEvents mapping
//! and the schemas generated from them. Services share this crate and nothing else of each other.
//!
//! An event type is never changed in place: a change of meaning or shape is a new type with a new
//! version suffix (`….v2`), and the old type stays readable.

mod catalog;
pub mod cloudevents;
mod contract;
mod envelope;
mod error;

pub mod audit;
pub mod aup;
pub mod filtering;
pub mod incident;

pub use catalog::{Event, EventKind, catalog, kind_of};
pub use cloudevents::{KafkaRecord, from_kafka, to_kafka};
pub use contract::{asyncapi_document, event_schemas};
pub use envelope::{Actor, Envelope, TraceContext};
pub use error::DecodeError;

/// The part of an event's data that never leaves its service's own store: the relay removes it before
/// publishing, so the shared log carries facts (categories, times, deadlines), never narrative or names.
pub const RESTRICTED_FIELD: &str = "restricted";

/// The event data as published: without its restricted part.
pub fn publishable(data: &serde_json::Value) -> serde_json::Value {
    match data {
        serde_json::Value::Object(fields) if fields.contains_key(RESTRICTED_FIELD) => {
            let mut fields = fields.clone();
            fields.remove(RESTRICTED_FIELD);
            serde_json::Value::Object(fields)
        }
        other => other.clone(),
    }
}

/// The topics of the shared log, one per producing service. Keys are stream ids.
pub mod topics {
    pub const INCIDENT: &str = "trustsafe.incident.v1";
    pub const FILTERING: &str = "trustsafe.filtering.v1";
    pub const AUP: &str = "trustsafe.aup.v1";
    pub const AUDIT: &str = "trustsafe.audit.v1";

    pub const ALL: [&str; 4] = [INCIDENT, FILTERING, AUP, AUDIT];
}
