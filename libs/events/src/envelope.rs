//! The event envelope: everything the log says about one event besides its data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who caused an event: a person (the JWT subject) with the role they acted in, or a service. The
/// subject stays in the producing service's own store; the log names a person by their pseudonym.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub subject: String,
    pub role: Option<String>,
    /// A keyed hash of the subject within the trust, set by the producing service: how the log names
    /// the person (`ce_actor`). Events stored before it existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pseudonym: Option<String>,
}

impl Actor {
    pub fn person(subject: impl Into<String>, role: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            role: Some(role.into()),
            pseudonym: None,
        }
    }

    /// The same person, named on the log by `pseudonym`.
    pub fn with_pseudonym(self, pseudonym: impl Into<String>) -> Self {
        Self {
            pseudonym: Some(pseudonym.into()),
            ..self
        }
    }

    /// A service acting on its own account (a reaction to another service's event, say).
    pub fn service(name: &str) -> Self {
        Self {
            subject: format!("service:{name}"),
            role: None,
            pseudonym: None,
        }
    }

    /// How the shared log names this actor: `person:<pseudonym>`, or `service:<name>`; never a
    /// person's token subject (`person:unattributed` for one stored without a pseudonym).
    pub fn on_the_log(&self) -> String {
        match &self.pseudonym {
            Some(pseudonym) => format!("person:{pseudonym}"),
            None if self.subject.starts_with("service:") => self.subject.clone(),
            None => "person:unattributed".into(),
        }
    }
}

/// W3C trace context of the span that appended the event, so a consumer continues the same trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
}

/// One recorded event. `D` is the data: a typed payload, or `serde_json::Value` on the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope<D = serde_json::Value> {
    /// UUIDv7: unique, and sortable by creation time.
    pub event_id: Uuid,
    /// Versioned type name, e.g. `incident.reported.v1`.
    pub event_type: String,
    /// The producing service as a CloudEvents source, e.g. `/trustsafe/incident`.
    pub source: String,
    pub stream_id: String,
    /// 1 for a stream's first event; contiguous.
    pub stream_version: i64,
    pub trust_id: String,
    /// None for trust-wide streams.
    pub school_id: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub actor: Actor,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub trace: TraceContext,
    pub data: D,
}

impl<D> Envelope<D> {
    pub fn map_data<E>(self, f: impl FnOnce(D) -> E) -> Envelope<E> {
        Envelope {
            event_id: self.event_id,
            event_type: self.event_type,
            source: self.source,
            stream_id: self.stream_id,
            stream_version: self.stream_version,
            trust_id: self.trust_id,
            school_id: self.school_id,
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at,
            actor: self.actor,
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            trace: self.trace,
            data: f(self.data),
        }
    }
}

impl Envelope<serde_json::Value> {
    /// Reads the data as the payload type `E`, refusing an envelope of another type.
    pub fn decode<E: crate::Event>(&self) -> Result<E, crate::DecodeError> {
        if self.event_type != E::TYPE {
            return Err(crate::DecodeError::UnexpectedType {
                expected: E::TYPE,
                found: self.event_type.clone(),
            });
        }
        serde_json::from_value(self.data.clone()).map_err(|err| crate::DecodeError::Data {
            event_type: self.event_type.clone(),
            reason: err.to_string(),
        })
    }
}
