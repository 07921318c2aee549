//! The filtering service: filtering breaches, monitoring alerts, the filtering-policy change log and filter checks.
//!
//! It owns the database `trustsafe_filtering` and publishes its events from there to the shared log. So far
//! it is the host every service starts from: its event store, its outbox relay and the operations
//! endpoints (`/healthz`, `/readyz`, `/metrics`); its domain, API and store modules come next.

use trustsafe_servicekit::{HostConfig, RunningService, ServiceSpec};

pub const SPEC: ServiceSpec = ServiceSpec { name: "filtering" };

/// The resources under `/api/v1/schools/{school_id}/` this service owns (breaches, alerts, the policy change log and checks): the
/// gateway routes them here.
pub const SCHOOL_RESOURCES: &[&str] = &[
    "filtering-breaches",
    "monitoring-alerts",
    "filtering-policy-changes",
    "filter-checks",
];

/// This service's OpenAPI document, served at `/openapi.json` and merged by the gateway.
pub fn openapi() -> utoipa::openapi::OpenApi {
    SPEC.openapi("Filtering breaches, monitoring alerts, the filtering-policy change log and filter checks.")
}

pub async fn start(config: &HostConfig) -> anyhow::Result<RunningService> {
    trustsafe_servicekit::start(SPEC, config, openapi()).await
}
