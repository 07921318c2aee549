//! The incident domain, pure: no IO, no actix, no sqlx. Commands become events, events become state.

pub mod access;
pub mod concern;
pub mod deadline;
pub mod images;
pub mod workflow;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use thiserror::Error;

/// Why the domain refused.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum DomainError {
    /// Not there, or not this person's to see: existence is not revealed.
    #[error("not found")]
    NotFound,
    /// The person may see the concern but not do this to it.
    #[error("{0}")]
    Forbidden(String),
    /// A field is missing or malformed.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Well-formed, but a rule refuses it.
    #[error("{detail}")]
    Refused {
        detail: String,
        errors: BTreeMap<String, String>,
    },
    /// The concern is not in a state for this (already acknowledged, closed, …).
    #[error("{0}")]
    Conflict(String),
    #[error("no step {0} in this concern")]
    UnknownStep(String),
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn refused(detail: impl Into<String>) -> Self {
        DomainError::Refused {
            detail: detail.into(),
            errors: BTreeMap::new(),
        }
    }
}
