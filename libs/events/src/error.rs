use thiserror::Error;

/// Why a record from the log could not be read as an event. Consumers park such records.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("header {0} is missing")]
    MissingHeader(&'static str),
    #[error("header {name} is malformed: {reason}")]
    BadHeader { name: &'static str, reason: String },
    #[error("value is not JSON: {0}")]
    NotJson(String),
    #[error("unknown event type {0}")]
    UnknownType(String),
    #[error("expected event type {expected}, found {found}")]
    UnexpectedType { expected: &'static str, found: String },
    #[error("data of {event_type} does not match its schema: {reason}")]
    Data { event_type: String, reason: String },
}
