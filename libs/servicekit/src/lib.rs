//! What every trustsafe service shares and no business rule lives in: the tenancy, and the host that
//! runs a service's event store relay beside its HTTP endpoints for health, readiness and metrics.

mod host;
pub mod operations;
pub mod pseudonyms;
pub mod tenancy;

pub use host::{HostConfig, RunningService, ServiceBase, ServiceSpec, spawn_server, start};
pub use pseudonyms::{PseudonymKey, Purpose};
pub use tenancy::Tenancy;
