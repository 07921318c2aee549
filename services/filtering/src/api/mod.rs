//! The HTTP API: thin handlers over `app`, each carrying its route and its document.

mod alerts;
mod breaches;
mod categories;
mod life;
mod logs;
mod reports;

use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

/// The largest body an endpoint takes, as sent: a school's day of proxy log, plain, or a week gzipped.
pub const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Every route of the service's API.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(logs::upload)
        .service(alerts::push)
        .service(reports::report)
        .service(breaches::list)
        .service(breaches::get)
        .service(breaches::hours)
        .service(life::triage)
        .service(life::parents_informed)
        .service(life::escalate)
        .service(life::resolve)
        .service(categories::get)
        .service(categories::put_rules);
}

/// The document's tags and shared schemas; the paths come from [`routes`].
#[derive(OpenApi)]
#[openapi(
    components(schemas(trustsafe_problem::ProblemDocument)),
    tags((name = "filtering", description = "Filtering breaches and monitoring alerts, the filtering-policy change log, checks and the annual review"))
)]
pub struct Api;
