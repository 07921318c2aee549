//! `POST /api/v1/schools/{school_id}/breaches`: a breach reported by a member of staff (for themselves
//! or for a learner who told them).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::body::json_object;

use super::typed;
use crate::app::ingest::{Ingest, ReportAnswer, ReporterScope};
use crate::domain::reports::{self, IncomingReport};

/// Reports a breach (anyone with a role at the school): what was seen, when, where, the address if
/// known. It is a breach of its own, normalised by the reporter's word for it, escalated at once at
/// severity 4 or more; the reporter is answered with its id (reading breaches is for the school's
/// leads and technician). The same report sent twice by the same person is one breach.
#[utoipa::path(operation_id = "report_breach", tag = "filtering",
    params(("school_id" = String, Path)),
    request_body(content = IncomingReport),
    responses(
        (status = 201, description = "The breach it is", body = ReportAnswer),
        (status = 400, description = "A field is missing or malformed", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/schools/{school_id}/breaches")]
pub async fn report(
    req: HttpRequest,
    scope: ReporterScope,
    payload: web::Payload,
    ingest: web::Data<Ingest>,
) -> Result<HttpResponse, Problem> {
    let body = json_object(&req, payload, 64 * 1024, false).await?;
    let text = body.to_string();
    let incoming: IncomingReport = typed(body)?;
    let by_learner = incoming.by_learner;
    let sighting = reports::check(incoming, Utc::now()).map_err(|(field, message)| {
        Problem::new(Kind::Validation, format!("{field} {message}.")).with_error(field, message)
    })?;
    let answer = ingest.report(&scope, &sighting, by_learner, &text).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(answer))
}
