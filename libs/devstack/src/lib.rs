//! The embedded development stack: a Kafka-protocol broker in this process and, when no
//! `DATABASE_URL` is given, a private PostgreSQL cluster. `trustsafe dev` and the tests stand on it.

mod broker;
mod postgres;

pub use broker::{BrokerStorage, EmbeddedBroker, sqlite_storage};
pub use postgres::{PrivatePostgres, cluster_dir, database_url, ensure_database};
