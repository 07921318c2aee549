//! The filtering service: filtering breaches, monitoring alerts, the filtering-policy change log and filter checks.
//!
//! It owns the database `trustsafe_filtering` and publishes its events from there to the shared log. So far
//! it is the host every service starts from: its event store, its outbox relay and the operations
//! endpoints (`/healthz`, `/readyz`, `/metrics`); its domain, API and store modules come next.

use trustsafe_servicekit::{HostConfig, RunningService, ServiceSpec};

pub const SPEC: ServiceSpec = ServiceSpec { name: "filtering" };

pub async fn start(config: &HostConfig) -> anyhow::Result<RunningService> {
    trustsafe_servicekit::start(SPEC, config).await
}
