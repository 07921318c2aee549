//! The one error type of the incident service, and how each kind answers over HTTP.

use thiserror::Error;
use trustsafe_eventstore::{AppendError, StoreError};
use trustsafe_problem::{Kind, Problem};

use crate::domain::DomainError;

#[derive(Debug, Error)]
pub enum ConcernError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The request's `If-Match` names another version than the current one.
    #[error("the concern is at version {current}")]
    Stale { current: i64 },
    /// Someone else changed it between our read and our write.
    #[error("changed by someone else meanwhile")]
    Concurrent,
    /// The same Idempotency-Key came with another body.
    #[error("idempotency key reused with a different body")]
    KeyReused,
    /// Already an answer (from reading the request).
    #[error("{0}")]
    Problem(Problem),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AppendError> for ConcernError {
    fn from(err: AppendError) -> Self {
        match err {
            AppendError::Conflict { .. } => ConcernError::Concurrent,
            AppendError::Store(err) => ConcernError::Store(err),
            other => ConcernError::Store(StoreError::Corrupt(other.to_string())),
        }
    }
}

impl From<Problem> for ConcernError {
    fn from(problem: Problem) -> Self {
        ConcernError::Problem(problem)
    }
}

impl From<sqlx::Error> for ConcernError {
    fn from(err: sqlx::Error) -> Self {
        ConcernError::Store(err.into())
    }
}

impl From<ConcernError> for Problem {
    fn from(err: ConcernError) -> Self {
        match err {
            ConcernError::Domain(DomainError::NotFound) => Problem::not_found(),
            ConcernError::Domain(DomainError::Forbidden(detail)) => Problem::new(Kind::Forbidden, detail),
            ConcernError::Domain(DomainError::Invalid { field, message }) => {
                Problem::new(Kind::Validation, format!("{field} {message}.")).with_error(field, message)
            }
            ConcernError::Domain(DomainError::Refused { detail, errors }) => {
                let mut problem = Problem::new(Kind::Unprocessable, detail);
                problem.errors = errors;
                problem
            }
            ConcernError::Domain(DomainError::Conflict(detail)) => Problem::new(Kind::Conflict, detail),
            ConcernError::Domain(DomainError::UnknownStep(step)) => {
                Problem::new(Kind::NotFound, format!("This concern has no step {step}."))
            }
            ConcernError::Stale { current } => Problem::new(
                Kind::PreconditionFailed,
                format!("The concern has changed: it is at version {current}. Reload it and try again."),
            ),
            ConcernError::Concurrent => Problem::new(
                Kind::Conflict,
                "Someone else changed this at the same moment. Reload it and try again.",
            ),
            ConcernError::KeyReused => Problem::new(
                Kind::Unprocessable,
                "This Idempotency-Key was used for a different request. Use a new key for a new request.",
            )
            .with_error("Idempotency-Key", "already used with another body"),
            ConcernError::Problem(problem) => problem,
            ConcernError::Store(err) => {
                tracing::error!(%err, "incident store");
                match err {
                    StoreError::Database(_) => Problem::new(
                        Kind::Unavailable,
                        "The incident store is unavailable; try again shortly.",
                    ),
                    _ => Problem::new(Kind::Internal, "The incident store failed."),
                }
            }
        }
    }
}
