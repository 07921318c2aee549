//! The event store every trustsafe service stands on: PostgreSQL as the system of record, a
//! transactional outbox relayed to Kafka, and a kit for consumers whose effects happen exactly once.

mod consumer;
pub mod kafka;
pub mod metrics;
mod positions;
mod rebuild;
mod relay;
mod store;
pub mod stranded;

pub use consumer::{Consumer, ConsumerConfig, ConsumerError, HandlerError, Outcome, Projection};
pub use rebuild::{Rebuild, RebuildProgress, Rebuilt};
pub use relay::{BatchOutcome, Relay, RelayConfig};
pub use store::{AppendContext, Appended, EventStore, ExpectedVersion, NewEvent, StreamEvent};

use thiserror::Error;

/// The channel appends notify on at commit, so the relay wakes at once instead of polling.
/// (The migration's `outbox_notify` trigger names it too.)
pub const OUTBOX_CHANNEL: &str = "trustsafe_outbox";

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("a unique constraint refused the write")]
    Unique,
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

#[derive(Debug, Error)]
pub enum AppendError {
    /// Someone else appended first: reload, decide again, retry.
    #[error("stream {stream_id} is at version {actual}, not {expected:?}")]
    Conflict {
        stream_id: String,
        expected: ExpectedVersion,
        actual: i64,
    },
    /// Some of these event ids were used before, but not as this same append.
    #[error("event ids reused in a different append to {stream_id}")]
    EventIdReused { stream_id: String },
    #[error("nothing to append")]
    Empty,
    #[error(transparent)]
    Store(#[from] StoreError),
}
