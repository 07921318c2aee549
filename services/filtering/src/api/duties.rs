//! `/api/v1/schools/{school_id}/filtering/{roles,checks,reviews,duties}`: the DfE filtering and
//! monitoring standards' records — who holds the roles, the checks logged, the annual review and its
//! document for inspection, and where the school stands.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use trustsafe_events::filtering::duties::{
    CheckResult, DutyRole, FilterCheckLogged, FilteringReviewRecorded, ReviewRecord, RiskProfile, RoleHolders,
};
use trustsafe_problem::Problem;
use utoipa::ToSchema;
use uuid::Uuid;

use super::body;
use crate::app::breaches::ReaderScope;
use crate::app::categories::LeadScope;
use crate::app::changes::DutyScope;
use crate::app::duties::Duties;
use crate::domain::duties::{CheckEntry, ReviewEntry};

/// Who holds each role; absent or blank when nobody is named.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RolesDocument {
    #[schema(example = "Ms A. Head")]
    pub senior_leader: Option<String>,
    pub governor: Option<String>,
    pub dsl: Option<String>,
    #[schema(example = "TalkStraight")]
    pub it_provider: Option<String>,
}

impl From<RoleHolders> for RolesDocument {
    fn from(holders: RoleHolders) -> Self {
        Self {
            senior_leader: holders.senior_leader,
            governor: holders.governor,
            dsl: holders.dsl,
            it_provider: holders.it_provider,
        }
    }
}

impl From<RolesDocument> for RoleHolders {
    fn from(document: RolesDocument) -> Self {
        Self {
            senior_leader: document.senior_leader,
            governor: document.governor,
            dsl: document.dsl,
            it_provider: document.it_provider,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RolesView {
    pub roles: RolesDocument,
    /// When they were last named; absent before the first time.
    pub named_at: Option<DateTime<Utc>>,
}

/// Who holds the filtering and monitoring roles.
#[utoipa::path(operation_id = "get_filter_roles", tag = "filtering",
    params(("school_id" = String, Path)),
    responses((status = 200, description = "The roles", body = RolesView)))]
#[get("/api/v1/schools/{school_id}/filtering/roles")]
pub async fn get_roles(scope: DutyScope, duties: web::Data<Duties>) -> Result<HttpResponse, Problem> {
    let view = match duties.roles(&scope).await? {
        Some((holders, at)) => RolesView {
            roles: holders.into(),
            named_at: Some(at),
        },
        None => RolesView {
            roles: RolesDocument::default(),
            named_at: None,
        },
    };
    Ok(HttpResponse::Ok().json(view))
}

/// Names who holds the roles (the school's safeguarding leads): the senior leader and governor
/// responsible, the DSL, and the IT provider.
#[utoipa::path(operation_id = "put_filter_roles", tag = "filtering",
    params(("school_id" = String, Path)),
    request_body(content = RolesDocument),
    responses(
        (status = 200, description = "The roles as kept", body = RolesView),
        (status = 400, description = "A name is too long", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[put("/api/v1/schools/{school_id}/filtering/roles")]
pub async fn put_roles(
    req: HttpRequest,
    scope: LeadScope,
    payload: web::Payload,
    duties: web::Data<Duties>,
) -> Result<HttpResponse, Problem> {
    let document: RolesDocument = body(&req, payload, 16 * 1024).await?;
    let (holders, at) = duties.name_roles(&scope, &document.into()).await?;
    Ok(HttpResponse::Ok().json(RolesView {
        roles: holders.into(),
        named_at: Some(at),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckDocument {
    /// When it was carried out; now when absent.
    pub checked_at: Option<DateTime<Utc>>,
    #[schema(example = "J. Okafor, TalkStraight")]
    pub checked_by: String,
    #[schema(example = "testfiltering.com from a Year 5 laptop and a staff laptop")]
    pub what_tested: String,
    /// passed, partly or failed
    #[schema(value_type = String, example = "passed")]
    pub result: CheckResult,
    /// Required unless it passed.
    pub actions: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CheckView {
    pub id: Uuid,
    pub checked_at: DateTime<Utc>,
    pub checked_by: String,
    pub what_tested: String,
    #[schema(value_type = String)]
    pub result: CheckResult,
    pub actions: Option<String>,
}

impl From<FilterCheckLogged> for CheckView {
    fn from(check: FilterCheckLogged) -> Self {
        let details = check.restricted;
        Self {
            id: check.check_id,
            checked_at: check.checked_at,
            checked_by: details.as_ref().map(|d| d.checked_by.clone()).unwrap_or_default(),
            what_tested: details
                .as_ref()
                .map(|d| d.what_tested.clone())
                .unwrap_or_default(),
            result: check.result,
            actions: details.and_then(|d| d.actions),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CheckLog {
    pub checks: Vec<CheckView>,
}

/// The checks logged, latest first.
#[utoipa::path(operation_id = "list_filter_checks", tag = "filtering",
    params(("school_id" = String, Path)),
    responses((status = 200, description = "The check log", body = CheckLog)))]
#[get("/api/v1/schools/{school_id}/filtering/checks")]
pub async fn list_checks(scope: DutyScope, duties: web::Data<Duties>) -> Result<HttpResponse, Problem> {
    let checks = duties.checks(&scope).await?;
    Ok(HttpResponse::Ok().json(CheckLog {
        checks: checks.into_iter().map(CheckView::from).collect(),
    }))
}

/// Logs a check of the filtering and monitoring (the DSL or the technician): when, who, what was
/// tested, the result, and what follows a check that did not pass.
#[utoipa::path(operation_id = "log_filter_check", tag = "filtering",
    params(("school_id" = String, Path)),
    request_body(content = CheckDocument),
    responses(
        (status = 201, description = "The check, logged", body = CheckView),
        (status = 400, description = "A field is missing or malformed, a time ahead of now, or no actions after a check that did not pass", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/schools/{school_id}/filtering/checks")]
pub async fn log_check(
    req: HttpRequest,
    scope: ReaderScope,
    payload: web::Payload,
    duties: web::Data<Duties>,
) -> Result<HttpResponse, Problem> {
    let document: CheckDocument = body(&req, payload, 64 * 1024).await?;
    let entry = CheckEntry {
        checked_at: document.checked_at,
        checked_by: document.checked_by,
        what_tested: document.what_tested,
        result: document.result,
        actions: document.actions,
    };
    let check = duties.log_check(&scope, entry).await?;
    Ok(HttpResponse::Created().json(CheckView::from(check)))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskProfileDocument {
    #[schema(example = "4-11")]
    pub ages: String,
    pub send: String,
    pub eal: String,
    pub other: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewDocument {
    pub reviewed_on: NaiveDate,
    /// A year on when absent; never more.
    pub next_review_by: Option<NaiveDate>,
    /// The senior leader, the DSL and the IT provider take part; the governor where they can.
    pub participants: RolesDocument,
    pub risk_profile: RiskProfileDocument,
    /// Bring-your-own devices: allowed or not, and how they are filtered.
    pub byod: String,
    /// Generative AI: what learners can reach and how it is filtered and monitored.
    pub ai: String,
    /// What the filter and monitoring provide, and whether that meets the school's needs.
    pub provision: String,
    #[serde(default)]
    pub actions: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewView {
    pub id: Uuid,
    pub reviewed_on: NaiveDate,
    pub next_review_by: NaiveDate,
    pub participants: RolesDocument,
    pub risk_profile: RiskProfileDocument,
    pub byod: String,
    pub ai: String,
    pub provision: String,
    pub actions: Vec<String>,
    /// The checks logged and the changes applied since the previous review.
    pub checks_considered: Vec<Uuid>,
    pub changes_considered: Vec<Uuid>,
}

impl From<FilteringReviewRecorded> for ReviewView {
    fn from(review: FilteringReviewRecorded) -> Self {
        let record = review.restricted.unwrap_or_default();
        Self {
            id: review.review_id,
            reviewed_on: review.reviewed_on,
            next_review_by: review.next_review_by,
            participants: record.participants.into(),
            risk_profile: RiskProfileDocument {
                ages: record.risk_profile.ages,
                send: record.risk_profile.send,
                eal: record.risk_profile.eal,
                other: record.risk_profile.other,
            },
            byod: record.byod,
            ai: record.ai,
            provision: record.provision,
            actions: record.actions,
            checks_considered: review.checks_considered,
            changes_considered: review.changes_considered,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReviewList {
    pub reviews: Vec<ReviewView>,
}

/// The annual reviews, latest first.
#[utoipa::path(operation_id = "list_filter_reviews", tag = "filtering",
    params(("school_id" = String, Path)),
    responses((status = 200, description = "The reviews", body = ReviewList)))]
#[get("/api/v1/schools/{school_id}/filtering/reviews")]
pub async fn list_reviews(scope: DutyScope, duties: web::Data<Duties>) -> Result<HttpResponse, Problem> {
    let reviews = duties.reviews(&scope).await?;
    Ok(HttpResponse::Ok().json(ReviewList {
        reviews: reviews.into_iter().map(ReviewView::from).collect(),
    }))
}

/// Records the annual review (the school's safeguarding leads): by the senior leader, the DSL and the
/// IT provider, covering the risk profile (ages, SEND, EAL), BYOD, AI and the provision; the checks
/// and changes since the previous review are gathered into it.
#[utoipa::path(operation_id = "record_filter_review", tag = "filtering",
    params(("school_id" = String, Path)),
    request_body(content = ReviewDocument),
    responses(
        (status = 201, description = "The review, recorded", body = ReviewView),
        (status = 400, description = "A part is missing, a participant not named, a date ahead, or the next review more than a year on", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/schools/{school_id}/filtering/reviews")]
pub async fn record_review(
    req: HttpRequest,
    scope: LeadScope,
    payload: web::Payload,
    duties: web::Data<Duties>,
) -> Result<HttpResponse, Problem> {
    let document: ReviewDocument = body(&req, payload, 256 * 1024).await?;
    let entry = ReviewEntry {
        reviewed_on: document.reviewed_on,
        next_review_by: document.next_review_by,
        record: ReviewRecord {
            participants: document.participants.into(),
            risk_profile: RiskProfile {
                ages: document.risk_profile.ages,
                send: document.risk_profile.send,
                eal: document.risk_profile.eal,
                other: document.risk_profile.other,
            },
            byod: document.byod,
            ai: document.ai,
            provision: document.provision,
            actions: document.actions,
        },
    };
    let review = duties.record_review(&scope, entry).await?;
    Ok(HttpResponse::Created().json(ReviewView::from(review)))
}

/// The review as a document for inspection (Markdown), with the checks and changes it considered.
#[utoipa::path(operation_id = "get_filter_review_document", tag = "filtering",
    params(("school_id" = String, Path), ("review_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The document", body = String, content_type = "text/markdown"),
        (status = 404, description = "No such review here, or not the caller's", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/schools/{school_id}/filtering/reviews/{review_id}/document")]
pub async fn review_document(
    scope: DutyScope,
    path: web::Path<(String, String)>,
    duties: web::Data<Duties>,
) -> Result<HttpResponse, Problem> {
    let id: Uuid = path.1.parse().map_err(|_| Problem::not_found())?;
    let document = duties.review_document(&scope, id).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/markdown; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"filtering-review-{id}.md\""),
        ))
        .body(document))
}

/// Where the school stands with its duties.
#[derive(Serialize, ToSchema)]
pub struct DutiesView {
    /// senior_leader, governor, dsl, it_provider: not yet named.
    #[schema(value_type = Vec<String>)]
    pub roles_missing: Vec<DutyRole>,
    pub last_check_at: Option<DateTime<Utc>>,
    /// Never checked, or the latest check is more than a term (120 days) ago.
    pub check_due: bool,
    pub last_reviewed_on: Option<NaiveDate>,
    pub next_review_by: Option<NaiveDate>,
    /// Never reviewed, or the next review's date has passed.
    pub review_overdue: bool,
}

/// Where the school stands with its filtering and monitoring duties.
#[utoipa::path(operation_id = "get_filter_duties", tag = "filtering",
    params(("school_id" = String, Path)),
    responses((status = 200, description = "The school's standing", body = DutiesView)))]
#[get("/api/v1/schools/{school_id}/filtering/duties")]
pub async fn status(scope: DutyScope, duties: web::Data<Duties>) -> Result<HttpResponse, Problem> {
    let status = duties.status(&scope).await?;
    Ok(HttpResponse::Ok().json(DutiesView {
        roles_missing: status.roles_missing,
        last_check_at: status.last_check_at,
        check_due: status.check_due,
        last_reviewed_on: status.last_reviewed_on,
        next_review_by: status.next_review_by,
        review_overdue: status.review_overdue,
    }))
}
