//! The HTTP API: thin handlers over `app`, each carrying its route and its document.

mod access;
mod people;
mod policies;
mod views;

use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

/// The largest body an endpoint takes: a roster of a few thousand people in one call.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

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
