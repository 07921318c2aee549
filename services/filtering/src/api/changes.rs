//! `/api/v1/schools/{school_id}/filtering/changes`: the filtering-policy change log — proposals, two
//! risk assessments, leadership's decision, the change made in the filter.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use trustsafe_events::filtering::duties::{ChangeAction, Perspective, Risk};
use trustsafe_problem::Problem;
use trustsafe_servicekit::query::query;
use utoipa::ToSchema;
use uuid::Uuid;

use super::body;
use crate::app::breaches::ReaderScope;
use crate::app::changes::{Changes, DutyScope};
use crate::domain::changes::{Change, ChangeState, Command, Proposal, Step, Taken};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalDocument {
    /// block or unblock
    #[schema(value_type = String, example = "unblock")]
    pub action: ChangeAction,
    /// A host and its subdomains (give a host or a category).
    #[schema(example = "museum.example")]
    pub host: Option<String>,
    /// A normalised category.
    pub category: Option<String>,
    #[schema(example = "Year 6 need the museum's archive for history")]
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentDocument {
    /// educational (a safeguarding lead) or technical (the technician)
    #[schema(value_type = String, example = "educational")]
    pub perspective: Perspective,
    /// low, medium or high
    #[schema(value_type = String, example = "low")]
    pub risk: Risk,
    pub note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionDocument {
    pub approved: bool,
    /// Why, required when rejected.
    pub note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppliedDocument {
    pub note: Option<String>,
}

/// Who took a step (their subject), when, and what they said.
#[derive(Serialize, ToSchema)]
pub struct ChangeStepView {
    pub by: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

impl From<Taken> for ChangeStepView {
    fn from(taken: Taken) -> Self {
        Self {
            by: taken.by,
            at: taken.at,
            note: taken.note,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AssessmentView {
    #[schema(value_type = String)]
    pub perspective: Perspective,
    #[schema(value_type = String)]
    pub risk: Risk,
    pub by: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

/// A change and every step of it.
#[derive(Serialize, ToSchema)]
pub struct ChangeView {
    pub id: Uuid,
    #[schema(value_type = String, example = "unblock")]
    pub action: ChangeAction,
    pub host: Option<String>,
    pub category: Option<String>,
    /// The breach triaged as over-blocking that proposed it.
    pub from_breach: Option<Uuid>,
    pub reason: String,
    /// proposed, assessed, approved, rejected or applied
    #[schema(value_type = String, example = "proposed")]
    pub state: ChangeState,
    pub proposed: ChangeStepView,
    pub assessments: Vec<AssessmentView>,
    pub approved: Option<bool>,
    pub decided: Option<ChangeStepView>,
    pub applied: Option<ChangeStepView>,
}

impl From<Change> for ChangeView {
    fn from(change: Change) -> Self {
        Self {
            id: change.change_id,
            action: change.action,
            state: change.state(),
            host: change.host,
            category: change.category,
            from_breach: change.from_breach,
            reason: change.reason,
            proposed: change.proposed.into(),
            assessments: change
                .assessments
                .into_iter()
                .map(|a| AssessmentView {
                    perspective: a.perspective,
                    risk: a.risk,
                    by: a.by,
                    at: a.at,
                    note: a.note,
                })
                .collect(),
            approved: change.approved,
            decided: change.decided.map(ChangeStepView::from),
            applied: change.applied.map(ChangeStepView::from),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ChangeLog {
    pub changes: Vec<ChangeView>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeQuery {
    state: Option<ChangeState>,
}

const CHANGE_QUERY: &str = " Use state: proposed, assessed, approved, rejected or applied.";

/// The school's change log, newest first (those who read its duties: its safeguarding leads,
/// technician and governors, and the trust's lead and governors).
#[utoipa::path(operation_id = "list_filter_changes", tag = "filtering",
    params(("school_id" = String, Path),
           ("state" = Option<String>, Query, description = "proposed, assessed, approved, rejected or applied")),
    responses(
        (status = 200, description = "The change log", body = ChangeLog),
        (status = 400, description = "A malformed query", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/schools/{school_id}/filtering/changes")]
pub async fn list(
    req: HttpRequest,
    scope: DutyScope,
    changes: web::Data<Changes>,
) -> Result<HttpResponse, Problem> {
    let asked: ChangeQuery = query(&req, CHANGE_QUERY)?;
    let found = changes.list(&scope, asked.state).await?;
    Ok(HttpResponse::Ok().json(ChangeLog {
        changes: found.into_iter().map(ChangeView::from).collect(),
    }))
}

/// Proposes a change (the DSL or the technician). Unblocking illegal content — the category, words
/// that mark it, or a host where the school's filter found it — is refused.
#[utoipa::path(operation_id = "propose_filter_change", tag = "filtering",
    params(("school_id" = String, Path)),
    request_body(content = ProposalDocument),
    responses(
        (status = 201, description = "The change, proposed", body = ChangeView),
        (status = 400, description = "Both or neither of host and category, a malformed one, or no reason", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "It would unblock illegal content", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/schools/{school_id}/filtering/changes")]
pub async fn propose(
    req: HttpRequest,
    scope: ReaderScope,
    payload: web::Payload,
    changes: web::Data<Changes>,
) -> Result<HttpResponse, Problem> {
    let document: ProposalDocument = body(&req, payload, 64 * 1024).await?;
    let proposal = Proposal {
        action: document.action,
        host: document.host,
        category: document.category,
        reason: document.reason,
        from_breach: None,
    };
    let change = changes.propose(&scope, proposal).await?;
    Ok(HttpResponse::Created().json(ChangeView::from(change)))
}

fn change_id(text: &str) -> Result<Uuid, Problem> {
    text.parse().map_err(|_| Problem::not_found())
}

/// A change and its steps.
#[utoipa::path(operation_id = "get_filter_change", tag = "filtering",
    params(("school_id" = String, Path), ("change_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The change", body = ChangeView),
        (status = 404, description = "No such change here, or not the caller's", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/schools/{school_id}/filtering/changes/{change_id}")]
pub async fn get(
    scope: DutyScope,
    path: web::Path<(String, String)>,
    changes: web::Data<Changes>,
) -> Result<HttpResponse, Problem> {
    let change = changes.get(&scope, change_id(&path.1)?).await?;
    Ok(HttpResponse::Ok().json(ChangeView::from(change)))
}

async fn act(
    scope: DutyScope,
    id: Uuid,
    changes: &Changes,
    command: Command,
) -> Result<HttpResponse, Problem> {
    let change = changes.act(&scope, id, command).await?;
    Ok(HttpResponse::Ok().json(ChangeView::from(change)))
}

/// A risk assessment from one side: educational (a safeguarding lead) or technical (the technician),
/// each once and by two different people.
#[utoipa::path(operation_id = "assess_filter_change", tag = "filtering",
    params(("school_id" = String, Path), ("change_id" = Uuid, Path)),
    request_body(content = AssessmentDocument),
    responses(
        (status = 200, description = "The change after it", body = ChangeView),
        (status = 403, description = "The caller lacks the experience this side needs", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such change here, or not the caller's", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "This side is assessed already, or the change is decided", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "The caller made the other assessment", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/schools/{school_id}/filtering/changes/{change_id}/assessments")]
pub async fn assess(
    req: HttpRequest,
    scope: DutyScope,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    changes: web::Data<Changes>,
) -> Result<HttpResponse, Problem> {
    let id = change_id(&path.1)?;
    changes.may(&scope, id, Step::Assess).await?;
    let document: AssessmentDocument = body(&req, payload, 64 * 1024).await?;
    let command = Command::Assess {
        perspective: document.perspective,
        risk: document.risk,
        note: document.note,
    };
    act(scope, id, &changes, command).await
}

/// Leadership's decision (the headteacher or the trust's safeguarding lead), once both assessments
/// are made; a rejection says why.
#[utoipa::path(operation_id = "decide_filter_change", tag = "filtering",
    params(("school_id" = String, Path), ("change_id" = Uuid, Path)),
    request_body(content = DecisionDocument),
    responses(
        (status = 200, description = "The change after it", body = ChangeView),
        (status = 400, description = "A rejection without a note", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not leadership", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such change here, or not the caller's", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Not yet assessed from both sides, or decided already", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/schools/{school_id}/filtering/changes/{change_id}/decision")]
pub async fn decide(
    req: HttpRequest,
    scope: DutyScope,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    changes: web::Data<Changes>,
) -> Result<HttpResponse, Problem> {
    let id = change_id(&path.1)?;
    changes.may(&scope, id, Step::Decide).await?;
    let document: DecisionDocument = body(&req, payload, 64 * 1024).await?;
    let command = Command::Decide {
        approved: document.approved,
        note: document.note,
    };
    act(scope, id, &changes, command).await
}

/// The approved change was made in the filter (the technician).
#[utoipa::path(operation_id = "apply_filter_change", tag = "filtering",
    params(("school_id" = String, Path), ("change_id" = Uuid, Path)),
    request_body(content = AppliedDocument),
    responses(
        (status = 200, description = "The change after it", body = ChangeView),
        (status = 403, description = "The caller is not the technician", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such change here, or not the caller's", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Not approved, or applied already", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/schools/{school_id}/filtering/changes/{change_id}/applied")]
pub async fn applied(
    req: HttpRequest,
    scope: DutyScope,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    changes: web::Data<Changes>,
) -> Result<HttpResponse, Problem> {
    let id = change_id(&path.1)?;
    changes.may(&scope, id, Step::Apply).await?;
    let document: AppliedDocument = body(&req, payload, 64 * 1024).await?;
    act(scope, id, &changes, Command::Apply { note: document.note }).await
}
