//! The trust's pseudonymised case list.

use actix_web::get;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::TrustScope;
use trustsafe_servicekit::policy::TrustLead;
use utoipa::ToSchema;

use crate::app::cases::page;
use crate::domain::cases::{age_days, detail_of, position_of};
use trustsafe_servicekit::query::query;

#[derive(Serialize, ToSchema)]
pub struct CaseView {
    /// Stable per case, and not its id.
    pub pseudonym: String,
    pub school_id: String,
    pub category: String,
    pub status: String,
    pub age_days: i64,
    pub acknowledgement_overdue: bool,
    pub overdue_steps: i64,
    pub escalated: bool,
    /// The case's detail, for an escalated case only.
    pub detail: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseView>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseQuery {
    cursor: Option<String>,
    limit: Option<u32>,
    overdue: Option<bool>,
}

/// The trust's concerns, pseudonymised: school, category, status, age and overdue flags; no names,
/// no narrative. An escalated case links to its detail. For the trust safeguarding lead.
#[utoipa::path(operation_id = "list_trust_cases", tag = "reporting",
    params(("trust_id" = String, Path), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1 to 200, default 50"),
           ("overdue" = Option<bool>, Query, description = "true: only cases with an overdue acknowledgement or step")),
    responses((status = 200, description = "A page of cases, newest first", body = CasePage),
              (status = 400, description = "A malformed cursor or limit", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")))]
#[get("/api/v1/trusts/{trust_id}/cases")]
pub async fn cases(
    req: HttpRequest,
    scope: TrustScope<TrustLead>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, Problem> {
    let asked: CaseQuery = query(&req, "")?;
    let limit = asked.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Problem::new(Kind::Validation, "limit is 1 to 200.").with_error("limit", "out of range"));
    }
    let after = asked
        .cursor
        .as_deref()
        .map(|cursor| {
            position_of(cursor).ok_or_else(|| {
                Problem::new(Kind::Validation, "The cursor is not one this API gave.")
                    .with_error("cursor", "malformed")
            })
        })
        .transpose()?;
    let overdue_only = asked.overdue.unwrap_or(false);
    let (cases, next_cursor, now) = page(&pool, &scope.trust_id, after, overdue_only, limit).await?;
    let items = cases
        .into_iter()
        .map(|case| CaseView {
            detail: detail_of(case.escalated, &case.school_id, case.incident_id),
            age_days: age_days(case.reported_at, now),
            pseudonym: case.pseudonym,
            school_id: case.school_id,
            category: case.category,
            status: case.status,
            acknowledgement_overdue: case.acknowledgement_overdue,
            overdue_steps: case.overdue_steps,
            escalated: case.escalated,
        })
        .collect();
    Ok(HttpResponse::Ok().json(CasePage { items, next_cursor }))
}
