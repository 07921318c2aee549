//! `/api/v1/schools/{school_id}/workflow`: the school's DSL workflow.

use actix_web::{HttpRequest, HttpResponse, web};
use actix_web::{get, put};
use trustsafe_events::incident::Workflow;
use trustsafe_problem::Problem;

use super::request::{etag, if_match, json_body, named};
use super::schema::WorkflowDocument;
use crate::app::Scope;
use crate::app::concerns::{Concerns, Target};

fn answer(workflow: &Workflow, version: i64) -> HttpResponse {
    HttpResponse::Ok().insert_header(etag(version)).json(workflow)
}

/// The school's DSL workflow (the DSL, deputies and headteacher): its DSL and deputies, escalation
/// contacts, acknowledgement deadline, and per category its label, steps and deadlines. Version 0 is
/// the policies' defaults.
#[utoipa::path(operation_id = "get_workflow", tag = "workflow",
    params(("school_id" = String, Path)),
    responses((status = 200, description = "The workflow; ETag is its version", body = WorkflowDocument,
               headers(("ETag" = String)))))]
#[get("/api/v1/schools/{school_id}/workflow")]
pub async fn get(scope: Scope, concerns: web::Data<Concerns>) -> Result<HttpResponse, Problem> {
    let (workflow, version) = concerns.workflow(&scope).await?;
    Ok(answer(&workflow, version))
}

/// Sets the school's workflow (the DSL or the headteacher). It may add steps, reword them, shorten
/// deadlines and relabel categories; dropping a step the policies require or lengthening its
/// deadline is refused (422, every such field named).
#[utoipa::path(operation_id = "put_workflow", tag = "workflow",
    params(("school_id" = String, Path),
           ("If-Match" = Option<String>, Header, description = "The ETag last read: 412 if it has changed since")),
    request_body(content = WorkflowDocument, description = "The whole workflow, as GET gives it"),
    responses(
        (status = 200, description = "The workflow now; ETag is its new version", body = WorkflowDocument, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON or a field of the wrong shape", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "A deputy may read the workflow, not change it", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else at the same moment", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Breaks what the policies require", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[put("/api/v1/schools/{school_id}/workflow")]
pub async fn put(
    req: HttpRequest,
    scope: Scope,
    payload: web::Payload,
    concerns: web::Data<Concerns>,
) -> Result<HttpResponse, Problem> {
    concerns.may(&scope, Target::Workflow).await?;
    let expected = if_match(&req)?;
    let workflow: Workflow = named(json_body(&req, payload, false).await?)?;
    let (workflow, version) = concerns.set_workflow(&scope, expected, workflow).await?;
    Ok(answer(&workflow, version))
}
