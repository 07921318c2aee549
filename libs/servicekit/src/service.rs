//! A service declared once. Each service crate has one `pub static SERVICE: Service`; the gateway's
//! routing, `trustsafe dev`, `trustsafe serve` and the test kit read it, and nothing else names a
//! service's routes, resources or consumers.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;

use actix_web::App;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{HostConfig, RunningService, operations};

/// Registers a service's handlers. Each handler's route is written once, on the handler (its actix
/// attribute), and its `#[utoipa::path]` documents it: the router and the document cannot drift.
pub type Routes = fn(&mut ServiceConfig);

/// Starts a service on a host configuration.
pub type Start =
    for<'a> fn(&'a HostConfig) -> Pin<Box<dyn Future<Output = anyhow::Result<RunningService>> + Send + 'a>>;

pub struct Service {
    /// `incident`, `filtering`, …: its database is `trustsafe_<name>`, its CloudEvents source
    /// `/trustsafe/<name>`, its URL for the gateway `TRUSTSAFE_<NAME>_URL`.
    pub name: &'static str,
    /// One sentence: what it keeps.
    pub summary: &'static str,
    /// The document's tags and shared schemas (the paths come from `routes`).
    pub document: fn() -> utoipa::openapi::OpenApi,
    pub routes: Routes,
    /// The consumer groups it runs, each under [`crate::ServiceBase::run_consumer`].
    pub consumers: &'static [&'static str],
    /// The largest request body any of its endpoints takes: the gateway refuses more (413) before
    /// passing a byte on.
    pub body_limit: usize,
    pub start: Start,
}

/// Where a school's and a trust's resources start.
pub const SCHOOL_PREFIX: &str = "/api/v1/schools/{school_id}/";
pub const TRUST_PREFIX: &str = "/api/v1/trusts/{trust_id}/";

impl Service {
    /// The service's whole OpenAPI document: its title, the operations endpoints and its routes.
    pub fn openapi(&self) -> utoipa::openapi::OpenApi {
        let mut base = operations::OperationsApi::openapi();
        base.info = utoipa::openapi::InfoBuilder::new()
            .title(format!("trustsafe {} service", self.name))
            .version("1.0.0")
            .description(Some(self.summary))
            .build();
        base.merge((self.document)());
        let (_, document) = App::new()
            .into_utoipa_app()
            .openapi(base)
            .configure(self.routes)
            .split_for_parts();
        document
    }

    /// The first path segments after `prefix` ([`SCHOOL_PREFIX`] or [`TRUST_PREFIX`]) that this
    /// service's routes use: what the gateway routes to it.
    pub fn resources(&self, prefix: &str) -> BTreeSet<String> {
        self.openapi()
            .paths
            .paths
            .keys()
            .filter_map(|path| path.strip_prefix(prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_owned())
            .collect()
    }

    pub fn database(&self) -> String {
        format!("trustsafe_{}", self.name)
    }

    pub fn source(&self) -> String {
        format!("/trustsafe/{}", self.name)
    }

    /// The environment variable `trustsafe serve gateway` reads this service's base URL from.
    pub fn url_variable(&self) -> String {
        format!("TRUSTSAFE_{}_URL", self.name.to_ascii_uppercase())
    }
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
