//! The aup service: acceptable-use documents and agreements, people from the MIS, access grants and visitor passes.
//!
//! It owns the database `trustsafe_aup` and publishes its events from there to the shared log. So far
//! it is the host every service starts from: its event store, its outbox relay and the operations
//! endpoints (`/healthz`, `/readyz`, `/metrics`); its domain, API and store modules come next.

use trustsafe_servicekit::{HostConfig, RunningService, ServiceSpec};

pub const SPEC: ServiceSpec = ServiceSpec { name: "aup" };

/// The resources under `/api/v1/schools/{school_id}/` this service owns (acceptable use, the MIS roster, access and loans): the
/// gateway routes them here.
pub const SCHOOL_RESOURCES: &[&str] = &[
    "aup-documents",
    "agreements",
    "people",
    "access-grants",
    "visitor-passes",
    "device-loans",
];

/// This service's OpenAPI document, served at `/openapi.json` and merged by the gateway.
pub fn openapi() -> utoipa::openapi::OpenApi {
    SPEC.openapi("Acceptable-use documents and agreements, people from the MIS, access grants, visitor passes and device loans.")
}

pub async fn start(config: &HostConfig) -> anyhow::Result<RunningService> {
    trustsafe_servicekit::start(SPEC, config, openapi()).await
}
