//! `/api/v1/schools/{school_id}/breaches/{breach_id}/…`: a breach's life — triage, parents told,
//! escalation, resolution.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use serde::Deserialize;
use trustsafe_events::filtering::Verdict;
use trustsafe_problem::Problem;
use utoipa::ToSchema;
use uuid::Uuid;

use super::body;
use super::breaches::BreachView;
use crate::app::breaches::{Breaches, ReaderScope};
use crate::domain::life::{Command, Step};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageDocument {
    #[schema(value_type = String, example = "genuine")]
    pub verdict: Verdict,
    pub note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParentsDocument {
    /// Phone, letter, meeting, …
    #[schema(example = "phone")]
    pub how: String,
    pub note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateDocument {
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveDocument {
    pub outcome: String,
    /// When a pupil was involved and their parents were not told: why not.
    pub parents_not_informed_because: Option<String>,
}

async fn act(
    scope: ReaderScope,
    breach_id: &str,
    breaches: &Breaches,
    command: Command,
) -> Result<HttpResponse, Problem> {
    let id: Uuid = breach_id.parse().map_err(|_| Problem::not_found())?;
    let breach = breaches.act(&scope, id, command).await?;
    Ok(HttpResponse::Ok().json(BreachView::of(breach, Utc::now())))
}

/// Asks whether the caller may take `step` before the body is read: someone who may not see the
/// breach gets 404, and someone who may not do this 403, whatever they sent.
async fn may(scope: &ReaderScope, breach_id: &str, breaches: &Breaches, step: Step) -> Result<(), Problem> {
    let id: Uuid = breach_id.parse().map_err(|_| Problem::not_found())?;
    breaches.may(scope, id, step).await?;
    Ok(())
}

/// Triage (the DSL, deputies, headteacher, trust lead or technician), by the deadline (4 hours at
/// severity 4 or more, else 24): genuine, a false positive, or over-blocking (never for illegal content).
#[utoipa::path(operation_id = "triage_breach", tag = "filtering",
    params(("school_id" = String, Path), ("breach_id" = Uuid, Path)),
    request_body(content = TriageDocument),
    responses(
        (status = 200, description = "The breach after it", body = BreachView),
        (status = 404, description = "No such breach here, or not the caller's", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Triaged already, or resolved", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Illegal content called over-blocking", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/schools/{school_id}/breaches/{breach_id}/triage")]
pub async fn triage(
    req: HttpRequest,
    scope: ReaderScope,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    breaches: web::Data<Breaches>,
) -> Result<HttpResponse, Problem> {
    may(&scope, &path.1, &breaches, Step::Triage).await?;
    let document: TriageDocument = body(&req, payload, 64 * 1024).await?;
    let command = Command::Triage {
        verdict: document.verdict,
        note: document.note,
    };
    act(scope, &path.1, &breaches, command).await
}

/// The parents or carers of the pupil involved were told (the school's safeguarding leads), within
/// 48 hours of a genuine verdict (RAPS 7.3.2).
#[utoipa::path(operation_id = "breach_parents_informed", tag = "filtering",
    params(("school_id" = String, Path), ("breach_id" = Uuid, Path)),
    request_body(content = ParentsDocument),
    responses(
        (status = 200, description = "The breach after it", body = BreachView),
        (status = 403, description = "The technician may read the breach but not do this", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such breach here, or not the caller's", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Not genuine, told already, or resolved", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "No pupil is involved", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/schools/{school_id}/breaches/{breach_id}/parents-informed")]
pub async fn parents_informed(
    req: HttpRequest,
    scope: ReaderScope,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    breaches: web::Data<Breaches>,
) -> Result<HttpResponse, Problem> {
    may(&scope, &path.1, &breaches, Step::InformParents).await?;
    let document: ParentsDocument = body(&req, payload, 64 * 1024).await?;
    let command = Command::InformParents {
        how: document.how,
        note: document.note,
    };
    act(scope, &path.1, &breaches, command).await
}

/// Escalates the breach to an online-safety concern (the school's safeguarding leads): the incident
/// service opens one, once.
#[utoipa::path(operation_id = "escalate_breach", tag = "filtering",
    params(("school_id" = String, Path), ("breach_id" = Uuid, Path)),
    request_body(content = EscalateDocument),
    responses(
        (status = 200, description = "The breach after it", body = BreachView),
        (status = 403, description = "The technician may read the breach but not do this", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such breach here, or not the caller's", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Escalated already, a false positive, or resolved", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/schools/{school_id}/breaches/{breach_id}/escalate")]
pub async fn escalate(
    req: HttpRequest,
    scope: ReaderScope,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    breaches: web::Data<Breaches>,
) -> Result<HttpResponse, Problem> {
    may(&scope, &path.1, &breaches, Step::Escalate).await?;
    let document: EscalateDocument = body(&req, payload, 64 * 1024).await?;
    act(
        scope,
        &path.1,
        &breaches,
        Command::Escalate {
            reason: document.reason,
        },
    )
    .await
}

/// Resolves the breach with an outcome (the school's safeguarding leads), once triaged and, when a
/// pupil was involved in a genuine breach, once their parents were told or it is said why not.
#[utoipa::path(operation_id = "resolve_breach", tag = "filtering",
    params(("school_id" = String, Path), ("breach_id" = Uuid, Path)),
    request_body(content = ResolveDocument),
    responses(
        (status = 200, description = "The breach after it", body = BreachView),
        (status = 403, description = "The technician may read the breach but not do this", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such breach here, or not the caller's", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Not yet triaged, or resolved already", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "The parents are owed and no reason was given", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/schools/{school_id}/breaches/{breach_id}/resolve")]
pub async fn resolve(
    req: HttpRequest,
    scope: ReaderScope,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    breaches: web::Data<Breaches>,
) -> Result<HttpResponse, Problem> {
    may(&scope, &path.1, &breaches, Step::Resolve).await?;
    let document: ResolveDocument = body(&req, payload, 64 * 1024).await?;
    let command = Command::Resolve {
        outcome: document.outcome,
        parents_not_informed_because: document.parents_not_informed_because,
    };
    act(scope, &path.1, &breaches, command).await
}
