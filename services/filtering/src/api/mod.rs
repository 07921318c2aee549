//! The HTTP API: thin handlers over `app`, each carrying its route and its document. None yet.

use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

/// Every route of the service's API.
pub fn routes(_cfg: &mut ServiceConfig) {}

/// The document's tags and shared schemas; the paths come from [`routes`].
#[derive(OpenApi)]
#[openapi(
    components(schemas(trustsafe_problem::ProblemDocument)),
    tags((name = "filtering", description = "Filtering breaches and monitoring alerts, the filtering-policy change log, checks and the annual review"))
)]
pub struct Api;
