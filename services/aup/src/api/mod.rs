//! The HTTP API: thin handlers over `app`, each carrying its route and its document.

mod access;
mod imports;
mod people;
mod policies;
mod views;

use trustsafe_problem::{Kind, Problem};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

/// The largest body an endpoint takes: a roster of a few thousand people in one call.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The body, up to `limit`, as `T`: a problem naming the field that does not fit otherwise.
async fn body<T: serde::de::DeserializeOwned>(
    req: &actix_web::HttpRequest,
    payload: actix_web::web::Payload,
    limit: usize,
) -> Result<T, Problem> {
    let value = trustsafe_servicekit::body::json_object(req, payload, limit, false).await?;
    serde_path_to_error::deserialize(value).map_err(|err| {
        let field = err.path().to_string();
        let message = err.into_inner().to_string();
        Problem::new(Kind::Validation, format!("{field}: {message}.")).with_error(field, message)
    })
}

/// A record's id from the path; anything else names no record (404).
fn path_id(text: &str) -> Result<uuid::Uuid, Problem> {
    text.parse().map_err(|_| Problem::not_found())
}

/// Every route of the service's API.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(people::sync)
        .service(people::list)
        .service(people::get)
        .service(people::person_history)
        .service(policies::publish_for_school)
        .service(policies::publish_for_trust)
        .service(policies::in_force)
        .service(policies::versions)
        .service(policies::agree)
        .service(imports::import_acceptances)
        .service(policies::status)
        .service(policies::answers)
        .service(policies::compliance)
        .service(access::grant_access)
        .service(access::revoke_access)
        .service(access::list_grants)
        .service(access::lend)
        .service(access::take_back)
        .service(access::device_loans)
        .service(access::loans_out)
        .service(access::welcome)
        .service(access::check_code);
}

/// The document's tags and shared schemas; the paths come from [`routes`].
#[derive(OpenApi)]
#[openapi(
    components(schemas(trustsafe_problem::ProblemDocument)),
    tags(
        (name = "acceptable-use", description = "Acceptable-use documents, agreements, access grants, visitor passes and device loans"),
        (name = "people", description = "The roster: pupils, staff, parents and carers, synced from the school's MIS")
    )
)]
pub struct Api;
