//! `/api/v1/schools/{school_id}/incidents…`: thin handlers over [`Concerns`].

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_web::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use trustsafe_events::incident::{
    Agency, Category, ConcernSource, PersonInvolved, PersonKind, PersonRole, SubjectStaffRole,
};
use trustsafe_problem::{Kind, Problem};
use utoipa::ToSchema;
use uuid::Uuid;

use super::request::{etag, idempotency_key, if_match, json_body, typed};
use super::schema;
use super::views::{self, ConcernPage, ConcernSummary, ConcernView, History};
use crate::app::Scope;
use crate::app::concerns::{Concerns, Idempotency, ImagesFor, Target};
use crate::domain::concern::{Command, NewReport, Status};
use crate::domain::images::offers_images;
use crate::store::ListFilter;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonRequest {
    /// The person's reference in the school's MIS (a UPN, a staff code): never a name. Required
    /// without `person_id`, and for an alleged member of staff (what they sign in with).
    pub person_ref: Option<String>,
    /// The person picked from the school's roster (`GET …/people`): the DSL reads who they are there.
    pub person_id: Option<Uuid>,
    #[schema(schema_with = schema::person_kind)]
    pub kind: PersonKind,
    #[schema(schema_with = schema::person_role)]
    pub role: PersonRole,
}

/// A new online-safety concern. The school, the reporter and the time of the report come from the
/// request itself, never from the body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    #[schema(schema_with = schema::category)]
    pub category: String,
    /// One line, at most 200 characters.
    pub summary: String,
    /// What happened, in the reporter's words.
    pub description: String,
    pub occurred_at: DateTime<Utc>,
    pub location: Option<String>,
    /// Required for staff-conduct concerns; for any concern about a member of staff it decides who
    /// handles it.
    #[schema(schema_with = schema::subject_staff_role)]
    pub subject_staff_role: Option<SubjectStaffRole>,
    #[serde(default)]
    pub people: Vec<PersonRequest>,
    #[serde(default)]
    pub device_involved: bool,
    /// A child is at immediate risk of harm (brings the 999 step where the policies ask for it).
    #[serde(default)]
    pub immediate_risk: bool,
}

/// An unknown category is well-formed but refused: 422, with the categories there are.
fn category_of(id: &str) -> Result<Category, Problem> {
    Category::from_id(id).ok_or_else(|| {
        let known: Vec<&str> = Category::ALL.iter().map(|category| category.id()).collect();
        Problem::new(
            Kind::Unprocessable,
            format!("{id:?} is not a category of concern."),
        )
        .with_error("category", format!("one of {}", known.join(", ")))
    })
}

/// The path's concern id; one that is not a UUID names no concern.
fn concern_id(path: &(String, String)) -> Result<Uuid, Problem> {
    Uuid::parse_str(&path.1).map_err(|_| Problem::not_found())
}

fn ok(view: ConcernView) -> HttpResponse {
    HttpResponse::Ok().insert_header(etag(view.version)).json(view)
}

/// Report a concern (any member of staff).
#[utoipa::path(operation_id = "report_incident", tag = "incidents",
    params(("school_id" = String, Path, description = "The school, e.g. raps"),
           ("Idempotency-Key" = Option<String>, Header, description = "Same key and body: the same answer, one concern. Same key, another body: 422.")),
    request_body = ReportRequest,
    responses(
        (status = 201, description = "Recorded; Location names it", body = ConcernView,
         headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed JSON, or missing or invalid fields (all named)", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Not a member of staff at this school", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "An unknown category; an image for a nude-image or indecent-image concern; an Idempotency-Key reused with another body", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/schools/{school_id}/incidents")]
pub async fn report(
    req: HttpRequest,
    scope: Scope,
    payload: web::Payload,
    concerns: web::Data<Concerns>,
) -> Result<HttpResponse, Problem> {
    concerns.may(&scope, Target::NewConcern).await?;
    let key = idempotency_key(&req)?;
    let body = json_body(&req, payload, false).await?;
    let category = body
        .get("category")
        .and_then(|value| value.as_str())
        .map(category_of)
        .transpose()?;
    // Images are answered first: where the policies forbid keeping them, that is what the reporter
    // needs to hear, whatever else is wrong with the body.
    if offers_images(&body)
        && let Some(category) = category
    {
        return Err(concerns
            .refuse_images(&scope, ImagesFor::Report(category))
            .await
            .into());
    }
    let request: ReportRequest = typed(body.clone())?;
    let new = NewReport {
        category: category_of(&request.category)?,
        summary: request.summary,
        description: request.description,
        occurred_at: request.occurred_at,
        location: request.location,
        subject_staff_role: request.subject_staff_role,
        people: request
            .people
            .into_iter()
            .map(|person| PersonInvolved {
                person_ref: person.person_ref,
                person_id: person.person_id,
                kind: person.kind,
                role: person.role,
            })
            .collect(),
        // The core fills it from the roster the service keeps.
        roster: Default::default(),
        device_involved: request.device_involved,
        immediate_risk: request.immediate_risk,
        source: ConcernSource::StaffReport,
    };
    let idempotency = key.map(|key| Idempotency { key, request: body });
    let now = Utc::now();
    let created = concerns
        .report(&scope, new, idempotency, |concern, access| {
            serde_json::to_value(views::concern(concern, access, now)).expect("a view serialises")
        })
        .await?;
    let version = created
        .body
        .get("version")
        .and_then(|version| version.as_i64())
        .unwrap_or(1);
    Ok(HttpResponse::build(
        actix_web::http::StatusCode::from_u16(created.status).unwrap_or(actix_web::http::StatusCode::CREATED),
    )
    .insert_header((header::LOCATION, created.location))
    .insert_header(etag(version))
    .json(created.body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<Status>,
    category: Option<String>,
    #[serde(default)]
    overdue: bool,
    cursor: Option<String>,
    limit: Option<u32>,
}

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

fn cursor_of(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn id_of_cursor(cursor: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok()
}

/// The concerns the caller may see at this school, newest first: a DSL sees the school's, a member of
/// staff those they reported, the trust safeguarding lead those escalated to the trust.
#[utoipa::path(operation_id = "list_incidents", tag = "incidents",
    params(("school_id" = String, Path, description = "The school"),
           ("status" = Option<String>, Query, description = "reported, acknowledged, closed or reopened"),
           ("category" = Option<String>, Query, description = "A category id"),
           ("overdue" = Option<bool>, Query, description = "Only concerns with a deadline passed"),
           ("cursor" = Option<String>, Query, description = "From the previous page's next_cursor"),
           ("limit" = Option<u32>, Query, description = "1 to 200, default 50")),
    responses(
        (status = 200, description = "A page of concerns", body = ConcernPage),
        (status = 400, description = "A malformed filter, cursor or limit", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/schools/{school_id}/incidents")]
pub async fn list(
    req: HttpRequest,
    scope: Scope,
    concerns: web::Data<Concerns>,
) -> Result<HttpResponse, Problem> {
    let query = web::Query::<ListQuery>::from_query(req.query_string())
        .map_err(|err| Problem::new(Kind::Validation, format!("The query is malformed: {err}.")))?
        .into_inner();
    if let Some(category) = &query.category
        && Category::from_id(category).is_none()
    {
        return Err(
            Problem::new(Kind::Validation, format!("{category:?} is not a category."))
                .with_error("category", "unknown"),
        );
    }
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(
            Problem::new(Kind::Validation, format!("limit is 1 to {MAX_LIMIT}."))
                .with_error("limit", "out of range"),
        );
    }
    let before = query
        .cursor
        .as_deref()
        .map(|cursor| {
            id_of_cursor(cursor).ok_or_else(|| {
                Problem::new(Kind::Validation, "The cursor is not one this API gave.")
                    .with_error("cursor", "malformed")
            })
        })
        .transpose()?;
    let filter = ListFilter {
        status: query.status,
        category: query.category,
        overdue: query.overdue,
        before,
        // One more than asked, to know whether there is a next page.
        limit: i64::from(limit) + 1,
    };
    let mut rows = concerns.list(&scope, &filter).await?;
    let next_cursor = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        cursor_of(rows.last().expect("a full page").id)
    });
    let now = Utc::now();
    Ok(HttpResponse::Ok().json(ConcernPage {
        items: rows
            .into_iter()
            .map(|row| ConcernSummary::new(row, now))
            .collect(),
        next_cursor,
    }))
}

/// One concern: its open steps and deadlines, overdue flags. Every read is audited.
#[utoipa::path(operation_id = "get_incident", tag = "incidents",
    params(("school_id" = String, Path), ("incident_id" = Uuid, Path)),
    responses((status = 200, description = "The concern; ETag is its version", body = ConcernView, headers(("ETag" = String)))))]
#[get("/api/v1/schools/{school_id}/incidents/{incident_id}")]
pub async fn get(
    scope: Scope,
    path: web::Path<(String, String)>,
    concerns: web::Data<Concerns>,
) -> Result<HttpResponse, Problem> {
    let id = concern_id(&path)?;
    let (loaded, access) = concerns.read(&scope, id, "incident").await?;
    Ok(ok(views::concern(&loaded.concern, access, Utc::now())))
}

/// The concern's chronology, from its stream. Audited like a read of the concern.
#[utoipa::path(operation_id = "get_incident_history", tag = "incidents",
    params(("school_id" = String, Path), ("incident_id" = Uuid, Path)),
    responses((status = 200, description = "Every event, oldest first", body = History, headers(("ETag" = String)))))]
#[get("/api/v1/schools/{school_id}/incidents/{incident_id}/history")]
pub async fn history(
    scope: Scope,
    path: web::Path<(String, String)>,
    concerns: web::Data<Concerns>,
) -> Result<HttpResponse, Problem> {
    let id = concern_id(&path)?;
    let (loaded, access) = concerns.read(&scope, id, "incident_history").await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(loaded.concern.version))
        .json(views::history(id, &loaded.envelopes, access)))
}

/// Runs a command from a request with a JSON body of `T` (empty allowed when `T` has no required field).
async fn act<T>(
    req: HttpRequest,
    scope: Scope,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    concerns: web::Data<Concerns>,
    command: impl FnOnce(T) -> Command,
) -> Result<HttpResponse, Problem>
where
    T: serde::de::DeserializeOwned + utoipa::PartialSchema,
{
    let id = concern_id(&path)?;
    concerns.may(&scope, Target::Concern(id)).await?;
    let expected = if_match(&req)?;
    let body = json_body(&req, payload, true).await?;
    if offers_images(&body) {
        return Err(concerns
            .refuse_images(&scope, ImagesFor::Concern(id))
            .await
            .into());
    }
    let command = command(typed::<T>(body)?);
    let (concern, access) = concerns.command(&scope, id, expected, command).await?;
    Ok(ok(views::concern(&concern, access, Utc::now())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// What every change to a concern may answer.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum ChangeResponses {
    /// The concern now; ETag is its new version.
    #[response(status = 200, headers(("ETag" = String)))]
    Changed(#[to_schema] ConcernView),
    /// Missing or malformed fields, all named; a malformed If-Match.
    #[response(status = 400, content_type = "application/problem+json")]
    Invalid(trustsafe_problem::ProblemDocument),
    /// The caller may see the concern but does not handle it.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(trustsafe_problem::ProblemDocument),
    /// No such concern (or step) for this caller at this school.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(trustsafe_problem::ProblemDocument),
    /// Not in a state for this (already acknowledged, closed, …), or someone else changed it at the
    /// same moment.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(trustsafe_problem::ProblemDocument),
    /// If-Match names an older version.
    #[response(status = 412, content_type = "application/problem+json")]
    Stale(trustsafe_problem::ProblemDocument),
    /// A rule refuses it: not yet acknowledged; required steps still open; images where the
    /// policies forbid them.
    #[response(status = 422, content_type = "application/problem+json")]
    Refused(trustsafe_problem::ProblemDocument),
}

/// The DSL (or a deputy) has the concern in hand.
#[utoipa::path(operation_id = "acknowledge_incident", tag = "incidents",
    params(("school_id" = String, Path), ("incident_id" = Uuid, Path),
           ("If-Match" = Option<String>, Header, description = "The ETag last read: 412 if it has changed since")),
    request_body(content = Empty, description = "Nothing, or {}"),
    responses(ChangeResponses))]
#[post("/api/v1/schools/{school_id}/incidents/{incident_id}/acknowledge")]
pub async fn acknowledge(
    req: HttpRequest,
    scope: Scope,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    concerns: web::Data<Concerns>,
) -> Result<HttpResponse, Problem> {
    act(req, scope, path, payload, concerns, |_: Empty| {
        Command::Acknowledge
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteStepRequest {
    pub note: Option<String>,
    /// An outside reference, if the step produced one.
    pub reference: Option<String>,
}

/// Mark a required step done.
#[utoipa::path(operation_id = "complete_incident_step", tag = "incidents",
    params(("school_id" = String, Path), ("incident_id" = Uuid, Path), ("step_id" = String, Path),
           ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body(content = CompleteStepRequest, description = "A note and a reference, both optional"),
    responses(ChangeResponses))]
#[post("/api/v1/schools/{school_id}/incidents/{incident_id}/steps/{step_id}/complete")]
pub async fn complete_step(
    req: HttpRequest,
    scope: Scope,
    path: web::Path<(String, String, String)>,
    payload: web::Payload,
    concerns: web::Data<Concerns>,
) -> Result<HttpResponse, Problem> {
    let (school_id, incident_id, step_id) = path.into_inner();
    let path = web::Path::from((school_id, incident_id));
    act(
        req,
        scope,
        path,
        payload,
        concerns,
        |request: CompleteStepRequest| Command::CompleteStep {
            step_id,
            note: request.note,
            reference: request.reference,
        },
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralRequest {
    #[schema(schema_with = schema::agency)]
    pub agency: Agency,
    /// The agency's reference (a police log number, an IWF report id, …).
    pub reference: Option<String>,
    pub note: Option<String>,
}

/// Record a referral or report to an outside agency. It completes the steps that ask for it (an IWF
/// report completes `iwf_report`).
#[utoipa::path(operation_id = "record_incident_referral", tag = "incidents",
    params(("school_id" = String, Path), ("incident_id" = Uuid, Path),
           ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = ReferralRequest,
    responses(ChangeResponses))]
#[post("/api/v1/schools/{school_id}/incidents/{incident_id}/referrals")]
pub async fn record_referral(
    req: HttpRequest,
    scope: Scope,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    concerns: web::Data<Concerns>,
) -> Result<HttpResponse, Problem> {
    act(req, scope, path, payload, concerns, |request: ReferralRequest| {
        Command::RecordReferral {
            agency: request.agency,
            reference: request.reference,
            note: request.note,
        }
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub text: String,
}

/// Add a restricted note: seen by those who handle the concern (and the trust once escalated), not
/// by its reporter.
#[utoipa::path(operation_id = "add_incident_note", tag = "incidents",
    params(("school_id" = String, Path), ("incident_id" = Uuid, Path),
           ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = NoteRequest,
    responses(ChangeResponses))]
#[post("/api/v1/schools/{school_id}/incidents/{incident_id}/notes")]
pub async fn add_note(
    req: HttpRequest,
    scope: Scope,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    concerns: web::Data<Concerns>,
) -> Result<HttpResponse, Problem> {
    act(req, scope, path, payload, concerns, |request: NoteRequest| {
        Command::AddNote { text: request.text }
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    pub reason: String,
}

/// Escalate to the trust: gives the trust safeguarding lead access to this one case.
#[utoipa::path(operation_id = "escalate_incident", tag = "incidents",
    params(("school_id" = String, Path), ("incident_id" = Uuid, Path),
           ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = ReasonRequest,
    responses(ChangeResponses))]
#[post("/api/v1/schools/{school_id}/incidents/{incident_id}/escalate")]
pub async fn escalate(
    req: HttpRequest,
    scope: Scope,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    concerns: web::Data<Concerns>,
) -> Result<HttpResponse, Problem> {
    act(req, scope, path, payload, concerns, |request: ReasonRequest| {
        Command::EscalateToTrust {
            reason: request.reason,
        }
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    pub outcome: String,
    /// The debrief: what was learned, what changes.
    pub lessons_learned: String,
    /// Closes even with required steps open, and says why.
    pub override_reason: Option<String>,
}

/// Close with the outcome and lessons learned. Refused (422) while required steps are open, unless
/// an override reason is given.
#[utoipa::path(operation_id = "close_incident", tag = "incidents",
    params(("school_id" = String, Path), ("incident_id" = Uuid, Path),
           ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = CloseRequest,
    responses(ChangeResponses))]
#[post("/api/v1/schools/{school_id}/incidents/{incident_id}/close")]
pub async fn close(
    req: HttpRequest,
    scope: Scope,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    concerns: web::Data<Concerns>,
) -> Result<HttpResponse, Problem> {
    act(req, scope, path, payload, concerns, |request: CloseRequest| {
        Command::Close {
            outcome: request.outcome,
            lessons_learned: request.lessons_learned,
            override_reason: request.override_reason,
        }
    })
    .await
}

/// Reopen a closed concern.
#[utoipa::path(operation_id = "reopen_incident", tag = "incidents",
    params(("school_id" = String, Path), ("incident_id" = Uuid, Path),
           ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = ReasonRequest,
    responses(ChangeResponses))]
#[post("/api/v1/schools/{school_id}/incidents/{incident_id}/reopen")]
pub async fn reopen(
    req: HttpRequest,
    scope: Scope,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    concerns: web::Data<Concerns>,
) -> Result<HttpResponse, Problem> {
    act(req, scope, path, payload, concerns, |request: ReasonRequest| {
        Command::Reopen {
            reason: request.reason,
        }
    })
    .await
}
