//! Acceptable-use policies and agreements: `/api/v1/schools/{school_id}/aup…`, `…/agreements`,
//! `…/people/{person_id}/aup-status` and the trust's `/api/v1/trusts/{trust_id}/aup/{audience}`.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use trustsafe_events::aup::{AgreementSource, Audience, Decision, Signer};
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::SchoolScope;
use trustsafe_servicekit::TrustScope;
use trustsafe_servicekit::policy::{AnyGrant, AnyRole, SafeguardingLeads, TrustLead};
use trustsafe_servicekit::query::query;
use utoipa::ToSchema;
use uuid::Uuid;

use super::views::{AgreementView, ComplianceView, PolicyVersionView, StandingView};
use super::{body, path_id};
use crate::app::policies::{NewAgreement, Policies};
use crate::domain::documents::Draft;

/// The largest policy or agreement body (a long policy text fits).
const POLICY_BODY_LIMIT: usize = 1024 * 1024;

/// A new version of a policy.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftDocument {
    pub title: String,
    /// The whole text the reader agrees to.
    pub text: String,
    /// The day it comes into force; up to a year back for a policy already in force on paper.
    pub effective_from: NaiveDate,
    /// Default 365: everyone signs again yearly.
    pub resign_every_days: Option<u32>,
    /// Default 30: how long an agreement to the version before stays current.
    pub grace_days: Option<u32>,
}

impl From<DraftDocument> for Draft {
    fn from(draft: DraftDocument) -> Self {
        Draft {
            title: draft.title,
            text: draft.text,
            effective_from: draft.effective_from,
            resign_every_days: draft.resign_every_days,
            grace_days: draft.grace_days,
        }
    }
}

/// An answer to record.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementDocument {
    pub person_id: Uuid,
    #[schema(value_type = String, example = "ks2")]
    pub audience: Audience,
    #[schema(value_type = String, example = "agreed")]
    pub decision: Decision,
    /// `{"by": "themselves"}` (the default) or `{"by": "parent_or_carer", "parent_id": …}`.
    #[schema(value_type = Option<Object>)]
    pub signer: Option<Signer>,
    /// Entered from a signed paper form (it may then be dated up to a year back).
    #[serde(default)]
    pub on_paper: bool,
    pub signed_at: Option<DateTime<Utc>>,
    /// The version the reader was shown; 409 if another is in force.
    pub version: Option<i32>,
}

/// A path's audience: `eyfs_ks1`, `ks2`, `ks3_5`, `send_learners`, `staff`, `parents_carers`,
/// `visitors_volunteers`, `wifi_users` or `social_media_staff`.
fn audience(text: &str) -> Result<Audience, Problem> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| {
        Problem::new(
            Kind::Validation,
            "audience is one of eyfs_ks1, ks2, ks3_5, send_learners, staff, parents_carers, visitors_volunteers, wifi_users, social_media_staff.",
        )
        .with_error("audience", "is not an audience")
    })
}

const PROBLEM: &str = "application/problem+json";

/// Publishes the next version of the school's own policy for an audience (the DSL, deputies,
/// headteacher, or the trust's safeguarding lead). It takes the place of the trust's policy at this
/// school from its effective date; earlier versions stay readable.
#[utoipa::path(operation_id = "publish_school_aup", tag = "acceptable-use",
    params(("school_id" = String, Path), ("audience" = String, Path)),
    request_body(content = DraftDocument),
    responses(
        (status = 201, description = "The version published", body = PolicyVersionView),
        (status = 400, description = "A field missing or out of range, each named", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
    ))]
#[put("/api/v1/schools/{school_id}/aup/{audience}")]
pub async fn publish_for_school(
    req: HttpRequest,
    scope: SchoolScope<SafeguardingLeads>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    policies: web::Data<Policies>,
) -> Result<HttpResponse, Problem> {
    let audience = audience(&path.1)?;
    let draft: DraftDocument = body(&req, payload, POLICY_BODY_LIMIT).await?;
    let published = policies
        .publish_for_school(&scope, audience, draft.into())
        .await?;
    Ok(HttpResponse::Created().json(PolicyVersionView::from(published)))
}

/// Publishes the next version of the trust-wide policy for an audience (the trust's safeguarding
/// lead): in force at every school of the trust that has no policy of its own for it.
#[utoipa::path(operation_id = "publish_trust_aup", tag = "acceptable-use",
    params(("trust_id" = String, Path), ("audience" = String, Path)),
    request_body(content = DraftDocument),
    responses(
        (status = 201, description = "The version published", body = PolicyVersionView),
        (status = 400, description = "A field missing or out of range, each named", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
    ))]
#[put("/api/v1/trusts/{trust_id}/aup/{audience}")]
pub async fn publish_for_trust(
    req: HttpRequest,
    scope: TrustScope<TrustLead>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    policies: web::Data<Policies>,
) -> Result<HttpResponse, Problem> {
    let audience = audience(&path.1)?;
    let draft: DraftDocument = body(&req, payload, POLICY_BODY_LIMIT).await?;
    let published = policies.publish_for_trust(&scope, audience, draft.into()).await?;
    Ok(HttpResponse::Created().json(PolicyVersionView::from(published)))
}

/// The policies in force at the school today, one per audience, with their text.
#[utoipa::path(operation_id = "list_aup_in_force", tag = "acceptable-use",
    params(("school_id" = String, Path)),
    responses((status = 200, description = "One version per audience", body = Vec<PolicyVersionView>)))]
#[get("/api/v1/schools/{school_id}/aup")]
pub async fn in_force(
    scope: SchoolScope<AnyRole>,
    policies: web::Data<Policies>,
) -> Result<HttpResponse, Problem> {
    let in_force = policies.in_force(&scope).await?;
    Ok(HttpResponse::Ok().json(
        in_force
            .into_iter()
            .map(PolicyVersionView::from)
            .collect::<Vec<_>>(),
    ))
}

/// Every version of an audience's policies at the school, the trust's and its own, oldest first.
#[utoipa::path(operation_id = "list_aup_versions", tag = "acceptable-use",
    params(("school_id" = String, Path), ("audience" = String, Path)),
    responses((status = 200, description = "Every version", body = Vec<PolicyVersionView>)))]
#[get("/api/v1/schools/{school_id}/aup/{audience}/versions")]
pub async fn versions(
    scope: SchoolScope<AnyRole>,
    path: web::Path<(String, String)>,
    policies: web::Data<Policies>,
) -> Result<HttpResponse, Problem> {
    let all = policies.versions(&scope, audience(&path.1)?).await?;
    Ok(HttpResponse::Ok().json(all.into_iter().map(PolicyVersionView::from).collect::<Vec<_>>()))
}

/// Records a person's answer to the policy in force for an audience (any member of staff: a paper
/// form, or the person at a kiosk). A parent or carer with parental responsibility signs for a
/// young child; who entered it is kept.
#[utoipa::path(operation_id = "record_agreement", tag = "acceptable-use",
    params(("school_id" = String, Path)),
    request_body(content = AgreementDocument),
    responses(
        (status = 201, description = "Recorded", body = AgreementView),
        (status = 400, description = "A field missing or malformed", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
        (status = 409, description = "Another version is in force than the one shown", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
        (status = 422, description = "Not someone on the roster, not their policy, not someone who may sign it, or no policy in force", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
    ))]
#[post("/api/v1/schools/{school_id}/agreements")]
pub async fn agree(
    req: HttpRequest,
    scope: SchoolScope<AnyRole>,
    payload: web::Payload,
    policies: web::Data<Policies>,
) -> Result<HttpResponse, Problem> {
    Policies::may_record(&scope)?;
    let answer: AgreementDocument = body(&req, payload, POLICY_BODY_LIMIT).await?;
    let recorded = policies
        .agree(
            &scope,
            NewAgreement {
                person_id: answer.person_id,
                audience: answer.audience,
                decision: answer.decision,
                signer: answer.signer.unwrap_or(Signer::Themselves),
                source: if answer.on_paper {
                    AgreementSource::PaperForm
                } else {
                    AgreementSource::AsGiven
                },
                signed_at: answer.signed_at,
                version: answer.version,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(AgreementView::of(recorded, Some(scope.caller.subject.clone()))))
}

/// Where a person stands with the acceptable-use policy: for the school's leads and its MIS, per
/// policy with their last answer; for the rest of its staff, whether they are covered.
#[utoipa::path(operation_id = "person_aup_status", tag = "acceptable-use",
    params(("school_id" = String, Path), ("person_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Their standing", body = StandingView),
        (status = 404, description = "No such person at this school, or not the caller's to read", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
    ))]
#[get("/api/v1/schools/{school_id}/people/{person_id}/aup-status")]
pub async fn status(
    scope: SchoolScope<AnyGrant>,
    path: web::Path<(String, String)>,
    policies: web::Data<Policies>,
) -> Result<HttpResponse, Problem> {
    let standing = policies.standing(&scope, path_id(&path.1)?).await?;
    Ok(HttpResponse::Ok().json(StandingView::from(standing)))
}

/// Every answer a person gave and who entered it (the school's leads).
#[utoipa::path(operation_id = "person_agreements", tag = "acceptable-use",
    params(("school_id" = String, Path), ("person_id" = Uuid, Path)),
    responses((status = 200, description = "Newest first", body = Vec<AgreementView>)))]
#[get("/api/v1/schools/{school_id}/people/{person_id}/agreements")]
pub async fn answers(
    scope: SchoolScope<SafeguardingLeads>,
    path: web::Path<(String, String)>,
    policies: web::Data<Policies>,
) -> Result<HttpResponse, Problem> {
    let answers = policies.answers(&scope, path_id(&path.1)?).await?;
    Ok(HttpResponse::Ok().json(
        answers
            .into_iter()
            .map(|stored| AgreementView::of(stored.agreement, Some(stored.recorded_by)))
            .collect::<Vec<_>>(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ComplianceQuery {
    audience: Option<Audience>,
    standing: Option<String>,
}

/// The school's compliance today: everyone on the roster counted under their own policy as current,
/// due, overdue, missing, declined, or no policy in force; and who they are (by id and MIS id), to
/// chase. For the school's leads and its MIS.
#[utoipa::path(operation_id = "aup_compliance", tag = "acceptable-use",
    params(("school_id" = String, Path),
           ("audience" = Option<String>, Query, description = "Only people of this policy"),
           ("standing" = Option<String>, Query, description = "Only people who stand so: current, due, overdue, missing, declined, no_policy")),
    responses(
        (status = 200, description = "Counts and people", body = ComplianceView),
        (status = 400, description = "A malformed query", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
    ))]
#[get("/api/v1/schools/{school_id}/aup-compliance")]
pub async fn compliance(
    req: HttpRequest,
    scope: SchoolScope<AnyGrant>,
    policies: web::Data<Policies>,
) -> Result<HttpResponse, Problem> {
    let asked: ComplianceQuery = query(&req, " Use audience and standing.")?;
    let compliance = policies.compliance(&scope).await?;
    ComplianceView::of(compliance, asked.audience, asked.standing.as_deref())
        .map(|view| HttpResponse::Ok().json(view))
}
