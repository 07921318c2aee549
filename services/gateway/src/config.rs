use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use std::collections::BTreeSet;

use serde::Serialize;
use trustsafe_auth::Authenticator;
use trustsafe_servicekit::{SCHOOL_PREFIX, Service, TRUST_PREFIX, Tenancy};
use utoipa::ToSchema;

/// A service behind the gateway and the first path segments it owns after
/// `/api/v1/schools/{school_id}/` or `/api/v1/trusts/{trust_id}/`.
#[derive(Clone, Debug)]
pub struct Upstream {
    pub name: &'static str,
    pub base_url: String,
    pub school_resources: BTreeSet<String>,
    pub trust_resources: BTreeSet<String>,
    /// The largest request body the service takes.
    pub body_limit: usize,
}

impl Upstream {
    /// `service` at `base_url`, owning the resources its routes use.
    pub fn of(service: &Service, base_url: String) -> Self {
        Self {
            name: service.name,
            base_url,
            school_resources: service.resources(SCHOOL_PREFIX),
            trust_resources: service.resources(TRUST_PREFIX),
            body_limit: service.body_limit,
        }
    }
}

/// A demo user the dashboard offers to sign in as.
#[derive(Clone, Serialize, ToSchema)]
pub struct DemoUser {
    /// Who they are, e.g. "raps dsl".
    pub who: String,
    pub token: String,
}

#[derive(Clone)]
pub struct GatewayConfig {
    pub bind: SocketAddr,
    pub upstreams: Vec<Upstream>,
    pub tenancy: Arc<Tenancy>,
    pub authenticator: Arc<Authenticator>,
    /// The dev identity's JWKS, served at `/.well-known/jwks.json` (dev mode only).
    pub jwks: Option<serde_json::Value>,
    /// The demo users the dashboard offers at `/dev/demo-users` (dev mode only; empty otherwise).
    pub demo_users: Vec<DemoUser>,
    /// Largest request body passed on to any service (each also has its own, smaller or not); more
    /// is 413.
    pub body_limit: usize,
    /// How long an upstream may take to answer before the caller gets 504.
    pub upstream_timeout: Duration,
    /// Requests per second per caller, and the burst allowed above it.
    pub rate_per_second: u32,
    pub rate_burst: u32,
}

impl GatewayConfig {
    pub fn new(bind: SocketAddr, tenancy: Arc<Tenancy>, authenticator: Arc<Authenticator>) -> Self {
        Self {
            bind,
            upstreams: Vec::new(),
            tenancy,
            authenticator,
            jwks: None,
            demo_users: Vec::new(),
            body_limit: 64 * 1024 * 1024,
            upstream_timeout: Duration::from_secs(10),
            rate_per_second: 50,
            rate_burst: 100,
        }
    }
}
