//! Each school's online-safety policy: approved when, due for review when, and flagged once overdue.

use actix_web::get;
use actix_web::{HttpResponse, web};
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use trustsafe_problem::Problem;
use trustsafe_servicekit::policy::TrustReaders;
use trustsafe_servicekit::{Tenancy, TrustScope};
use utoipa::ToSchema;

use crate::domain::policy_reviews::review_status;

#[derive(Serialize, ToSchema)]
pub struct PolicyReview {
    pub school_id: String,
    pub name: String,
    pub approved: Option<NaiveDate>,
    /// In the policy's own words, e.g. "Spring 2021".
    pub approved_label: Option<String>,
    pub next_review: Option<NaiveDate>,
    pub next_review_label: Option<String>,
    /// `overdue` once the review date has passed, `current` before, `not_recorded` without one.
    pub status: &'static str,
    pub days_overdue: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct PolicyReviews {
    pub trust_id: String,
    pub as_of: NaiveDate,
    pub schools: Vec<PolicyReview>,
}

/// The online-safety policy dates of every school of the trust (from the tenancy file), overdue
/// reviews flagged. For the trust safeguarding lead and the trust's governors.
#[utoipa::path(operation_id = "list_policy_reviews", tag = "reporting",
    params(("trust_id" = String, Path)),
    responses((status = 200, description = "Each school's policy dates", body = PolicyReviews)))]
#[get("/api/v1/trusts/{trust_id}/policy-reviews")]
pub async fn list(
    scope: TrustScope<TrustReaders>,
    tenancy: web::Data<Tenancy>,
) -> Result<HttpResponse, Problem> {
    let today = Utc::now().date_naive();
    let schools = tenancy
        .trust(&scope.trust_id)
        .into_iter()
        .flat_map(|trust| &trust.schools)
        .map(|school| {
            let policy = &school.online_safety_policy;
            let (status, days_overdue) = review_status(policy.next_review, today);
            PolicyReview {
                school_id: school.id.clone(),
                name: school.name.clone(),
                approved: policy.approved,
                approved_label: policy.approved_label.clone(),
                next_review: policy.next_review,
                next_review_label: policy.next_review_label.clone(),
                status,
                days_overdue,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(PolicyReviews {
        trust_id: scope.trust_id,
        as_of: today,
        schools,
    }))
}
