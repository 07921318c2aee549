//! The trust's pseudonymised case list.

use actix_web::get;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use trustsafe_auth::{Caller, TrustRole};
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::Tenancy;
use utoipa::ToSchema;

use super::{trust_of, unavailable};
use crate::store;

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

/// A page ends at its last case's pseudonym, which the page already shows: the cursor tells nothing
/// more (not the case's id, nor its report time to the microsecond, which the page gives in days).
fn cursor_of(case: &store::Case) -> String {
    case.pseudonym.clone()
}

/// `XXXX-XXXX-XXXX` in Crockford's base 32, as pseudonyms are written.
fn position_of(cursor: &str) -> Option<String> {
    let well_formed = cursor.len() == 14
        && cursor.char_indices().all(|(at, c)| {
            if at == 4 || at == 9 {
                c == '-'
            } else {
                c.is_ascii_digit() || c.is_ascii_uppercase()
            }
        });
    well_formed.then(|| cursor.to_owned())
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
    caller: Caller,
    trust_id: web::Path<String>,
    pool: web::Data<PgPool>,
    tenancy: web::Data<Tenancy>,
) -> Result<HttpResponse, Problem> {
    let trust = trust_of(&tenancy, &caller, &trust_id, &[TrustRole::TrustSafeguardingLead])?;
    let query = web::Query::<CaseQuery>::from_query(req.query_string())
        .map_err(|err| Problem::new(Kind::Validation, format!("The query is malformed: {err}.")))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Problem::new(Kind::Validation, "limit is 1 to 200.").with_error("limit", "out of range"));
    }
    let after = query
        .cursor
        .as_deref()
        .map(|cursor| {
            position_of(cursor).ok_or_else(|| {
                Problem::new(Kind::Validation, "The cursor is not one this API gave.")
                    .with_error("cursor", "malformed")
            })
        })
        .transpose()?;
    let now = Utc::now();
    let overdue_only = query.overdue.unwrap_or(false);
    let mut rows = store::cases(&pool, &trust.id, after, overdue_only, i64::from(limit) + 1, now)
        .await
        .map_err(unavailable)?;
    let next_cursor = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        cursor_of(rows.last().expect("a full page"))
    });
    let items = rows
        .into_iter()
        .map(|case| CaseView {
            detail: case.escalated.then(|| {
                format!(
                    "/api/v1/schools/{}/incidents/{}",
                    case.school_id, case.incident_id
                )
            }),
            pseudonym: case.pseudonym,
            school_id: case.school_id,
            category: case.category,
            status: case.status,
            age_days: (now - case.reported_at).num_days(),
            acknowledgement_overdue: case.acknowledgement_overdue,
            overdue_steps: case.overdue_steps,
            escalated: case.escalated,
        })
        .collect();
    Ok(HttpResponse::Ok().json(CasePage { items, next_cursor }))
}
