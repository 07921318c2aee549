//! The HTTP API: thin handlers over `app`, each carrying its route and its document. None yet.

use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

/// Every route of the service's API.
pub fn routes(_cfg: &mut ServiceConfig) {}

/// The document's tags and shared schemas; the paths come from [`routes`].
#[derive(OpenApi)]
#[openapi(
    components(schemas(trustsafe_problem::ProblemDocument)),
    tags((name = "acceptable-use", description = "Acceptable-use documents, agreements, the roster from the MIS, access grants, visitor passes and device loans"))
)]
pub struct Api;
