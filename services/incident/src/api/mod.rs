//! The HTTP API: thin handlers over the core, each module its routes and its part of the document.

mod incidents;
mod request;
mod schema;
mod views;
mod workflow;

use actix_web::web;
use utoipa::OpenApi;

/// Every route of the service's API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    incidents::configure(cfg);
    workflow::configure(cfg);
}

#[derive(OpenApi)]
#[openapi(
    paths(
        incidents::report,
        incidents::list,
        incidents::get,
        incidents::history,
        incidents::acknowledge,
        incidents::complete_step,
        incidents::record_referral,
        incidents::add_note,
        incidents::escalate,
        incidents::close,
        incidents::reopen,
        workflow::get,
        workflow::put,
    ),
    components(schemas(trustsafe_problem::ProblemDocument)),
    tags(
        (name = "incidents", description = "Online-safety concerns: reported by any member of staff, handled by the school's DSL and deputies"),
        (name = "workflow", description = "Each school's DSL workflow: contacts, steps and deadlines per category")
    )
)]
pub struct IncidentApi;
