//! The incident service: online-safety concerns and each school's Designated Safeguarding Lead workflow.
//!
//! It owns the database `trustsafe_incident` and publishes its events from there to the shared log. So far
//! it is the host every service starts from: its event store, its outbox relay and the operations
//! endpoints (`/healthz`, `/readyz`, `/metrics`); its domain, API and store modules come next.

pub mod domain;

use trustsafe_servicekit::{HostConfig, RunningService, ServiceSpec};

pub const SPEC: ServiceSpec = ServiceSpec { name: "incident" };

/// The resources under `/api/v1/schools/{school_id}/` this service owns (online-safety concerns and the school's DSL workflow): the
/// gateway routes them here.
pub const SCHOOL_RESOURCES: &[&str] = &["incidents", "workflow"];

/// This service's OpenAPI document, served at `/openapi.json` and merged by the gateway.
pub fn openapi() -> utoipa::openapi::OpenApi {
    SPEC.openapi("Online-safety concerns and each school's Designated Safeguarding Lead workflow.")
}

pub async fn start(config: &HostConfig) -> anyhow::Result<RunningService> {
    trustsafe_servicekit::start(SPEC, config, openapi()).await
}
