//! The one error type of the filtering service, and how each kind answers over HTTP.

use thiserror::Error;
use trustsafe_eventstore::{AppendError, StoreError};
use trustsafe_problem::{Kind, Problem};

use crate::domain::refusal::Refusal;

#[derive(Debug, Error)]
pub enum FilteringError {
    /// Not there, or not this caller's to see: existence is not revealed.
    #[error("not found")]
    NotFound,
    /// A field is missing or malformed.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Well-formed, but it cannot be read or a rule refuses it.
    #[error("{0}")]
    Refused(String),
    /// Not in a state for this (triaged already, resolved, …).
    #[error("{0}")]
    Conflict(String),
    /// The caller may see the record but not do this to it.
    #[error("{0}")]
    Forbidden(String),
    /// Someone else changed it between our read and our write.
    #[error("changed by someone else meanwhile")]
    Concurrent,
    /// Already an answer (from reading the request).
    #[error("{0}")]
    Problem(Problem),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AppendError> for FilteringError {
    fn from(err: AppendError) -> Self {
        match err {
            AppendError::Conflict { .. } | AppendError::Store(StoreError::Unique) => {
                FilteringError::Concurrent
            }
            AppendError::Store(err) => FilteringError::Store(err),
            other => FilteringError::Store(StoreError::Corrupt(other.to_string())),
        }
    }
}

impl From<Refusal> for FilteringError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid(field, message) => FilteringError::Invalid {
                field: field.into(),
                message,
            },
            Refusal::Conflict(detail) => FilteringError::Conflict(detail),
            Refusal::Refused(detail) => FilteringError::Refused(detail),
        }
    }
}

impl From<Problem> for FilteringError {
    fn from(problem: Problem) -> Self {
        FilteringError::Problem(problem)
    }
}

impl From<sqlx::Error> for FilteringError {
    fn from(err: sqlx::Error) -> Self {
        FilteringError::Store(err.into())
    }
}

impl From<FilteringError> for Problem {
    fn from(err: FilteringError) -> Self {
        match err {
            FilteringError::NotFound => Problem::not_found(),
            FilteringError::Invalid { field, message } => {
                Problem::new(Kind::Validation, format!("{field}: {message}.")).with_error(field, message)
            }
            FilteringError::Refused(detail) => Problem::new(Kind::Unprocessable, detail),
            FilteringError::Conflict(detail) => Problem::new(Kind::Conflict, detail),
            FilteringError::Forbidden(detail) => Problem::new(Kind::Forbidden, detail),
            FilteringError::Concurrent => Problem::new(
                Kind::Conflict,
                "Someone else changed this at the same moment. Try again.",
            ),
            FilteringError::Problem(problem) => problem,
            FilteringError::Store(err) => {
                tracing::error!(%err, "filtering store");
                match err {
                    StoreError::Database(_) => Problem::new(
                        Kind::Unavailable,
                        "The filtering store is unavailable; try again shortly.",
                    ),
                    _ => Problem::new(Kind::Internal, "The filtering store failed."),
                }
            }
        }
    }
}
