//! The one error type of the aup service, and how each kind answers over HTTP.

use thiserror::Error;
use trustsafe_eventstore::{AppendError, StoreError};
use trustsafe_problem::{Kind, Problem};

use crate::domain::people::Issue;

#[derive(Debug, Error)]
pub enum AupError {
    /// Not there, or not this caller's to see: existence is not revealed.
    #[error("not found")]
    NotFound,
    /// Fields missing or malformed, each named.
    #[error("invalid")]
    Invalid(Vec<Issue>),
    /// Well-formed, but a rule refuses it.
    #[error("{0}")]
    Refused(String),
    /// Not in a state for this (a newer version is in force, …).
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

impl From<AppendError> for AupError {
    fn from(err: AppendError) -> Self {
        match err {
            AppendError::Conflict { .. } | AppendError::Store(StoreError::Unique) => AupError::Concurrent,
            AppendError::Store(err) => AupError::Store(err),
            other => AupError::Store(StoreError::Corrupt(other.to_string())),
        }
    }
}

impl From<Problem> for AupError {
    fn from(problem: Problem) -> Self {
        AupError::Problem(problem)
    }
}

impl From<sqlx::Error> for AupError {
    fn from(err: sqlx::Error) -> Self {
        AupError::Store(err.into())
    }
}

impl From<AupError> for Problem {
    fn from(err: AupError) -> Self {
        match err {
            AupError::NotFound => Problem::not_found(),
            AupError::Forbidden(detail) => Problem::new(Kind::Forbidden, detail),
            AupError::Invalid(issues) => {
                let fields: Vec<&str> = issues.iter().map(|issue| issue.field.as_str()).collect();
                let mut problem = Problem::new(
                    Kind::Validation,
                    format!("Check these fields: {}.", fields.join(", ")),
                );
                for issue in issues {
                    problem = problem.with_error(issue.field, issue.message);
                }
                problem
            }
            AupError::Refused(detail) => Problem::new(Kind::Unprocessable, detail),
            AupError::Conflict(detail) => Problem::new(Kind::Conflict, detail),
            AupError::Concurrent => Problem::new(
                Kind::Conflict,
                "Someone else changed this at the same moment. Try again.",
            ),
            AupError::Problem(problem) => problem,
            AupError::Store(err) => {
                tracing::error!(%err, "aup store");
                match err {
                    StoreError::Database(_) => Problem::new(
                        Kind::Unavailable,
                        "The aup store is unavailable; try again shortly.",
                    ),
                    _ => Problem::new(Kind::Internal, "The aup store failed."),
                }
            }
        }
    }
}
