//! The HTTP API: thin handlers over `app`, each carrying its route and its document.

mod alerts;
mod breaches;
mod categories;
mod changes;
mod duties;
mod life;
mod logs;
mod reports;

use trustsafe_problem::{Kind, Problem};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

/// A JSON value as `T`: a problem naming the field that does not fit otherwise.
fn typed<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, Problem> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let field = err.path().to_string();
        let message = err.into_inner().to_string();
        Problem::new(Kind::Validation, format!("{field}: {message}.")).with_error(field, message)
    })
}

/// The JSON body, up to `limit` bytes, as `T`.
async fn body<T: serde::de::DeserializeOwned>(
    req: &actix_web::HttpRequest,
    payload: actix_web::web::Payload,
    limit: usize,
) -> Result<T, Problem> {
    typed(trustsafe_servicekit::body::json_object(req, payload, limit, false).await?)
}

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
        .service(categories::put_rules)
        .service(categories::get_suppressions)
        .service(categories::put_suppressions)
        .service(changes::list)
        .service(changes::propose)
        .service(changes::get)
        .service(changes::assess)
        .service(changes::decide)
        .service(changes::applied)
        .service(duties::get_roles)
        .service(duties::put_roles)
        .service(duties::list_checks)
        .service(duties::log_check)
        .service(duties::list_reviews)
        .service(duties::record_review)
        .service(duties::review_document)
        .service(duties::status);
}

/// The document's tags and shared schemas; the paths come from [`routes`].
#[derive(OpenApi)]
#[openapi(
    components(schemas(trustsafe_problem::ProblemDocument)),
    tags((name = "filtering", description = "Filtering breaches and monitoring alerts, the filtering-policy change log, checks and the annual review"))
)]
pub struct Api;
