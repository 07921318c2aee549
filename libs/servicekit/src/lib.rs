//! What every trustsafe service shares and no service's business rule lives in: the tenancy, the
//! service declaration (`Service`) and the host that runs it (its relay, consumers and HTTP endpoints
//! for health, readiness and metrics), the scopes endpoints are called in, and the readers of a request's body and query.

pub mod body;
mod host;
pub mod operations;
pub mod pseudonyms;
pub mod query;
pub mod scope;
mod service;
pub mod tenancy;

pub use host::{HostConfig, RunningService, ServiceBase, no_delay, spawn_server, start};
pub use pseudonyms::{PseudonymKey, Purpose};
pub use scope::{SchoolScope, TrustScope, policy};
pub use service::{SCHOOL_PREFIX, Service, TRUST_PREFIX};
pub use tenancy::Tenancy;
