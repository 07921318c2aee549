//! The HTTP API: thin handlers over the core. Each handler carries its route and its document.

mod concerns;
mod request;
mod schema;
mod views;
mod workflow;

pub(crate) use request::BODY_LIMIT;

use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

/// Every route of the service's API.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(concerns::report)
        .service(concerns::list)
        .service(concerns::get)
        .service(concerns::history)
        .service(concerns::acknowledge)
        .service(concerns::complete_step)
        .service(concerns::record_referral)
        .service(concerns::add_note)
        .service(concerns::escalate)
        .service(concerns::close)
        .service(concerns::reopen)
        .service(workflow::get)
        .service(workflow::put);
}

/// The document's tags and shared schemas; the paths come from [`routes`].
#[derive(OpenApi)]
#[openapi(
    components(schemas(trustsafe_problem::ProblemDocument)),
    tags(
        (name = "incidents", description = "Online-safety concerns: reported by any member of staff, handled by the school's DSL and deputies"),
        (name = "workflow", description = "Each school's DSL workflow: contacts, steps and deadlines per category")
    )
)]
pub struct ConcernApi;
