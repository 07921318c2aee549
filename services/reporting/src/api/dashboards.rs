//! The trust's and a school's dashboards.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use sqlx::PgPool;
use trustsafe_auth::{Caller, SchoolRole, TrustRole};
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::Tenancy;

use super::figures::{DashboardView, Detail, FiguresView, SchoolFigures};
use super::{TRUST_READERS, trust_of, unavailable};
use crate::store;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Period {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// `from` and `to` (inclusive dates); by default the twelve months to today.
fn period(req: &HttpRequest, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), Problem> {
    let query = web::Query::<Period>::from_query(req.query_string()).map_err(|err| {
        Problem::new(
            Kind::Validation,
            format!("The query is malformed: {err}. Dates are YYYY-MM-DD."),
        )
    })?;
    let to = query.to.unwrap_or(today);
    let from = query.from.unwrap_or(to - Duration::days(365));
    if from > to {
        return Err(Problem::new(Kind::Validation, "from is after to.").with_error("from", "after to"));
    }
    Ok((from, to))
}

pub fn bounds((from, to): (NaiveDate, NaiveDate)) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |date: NaiveDate| date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
    (start(from), start(to) + Duration::days(1))
}

/// The figures of `schools` for `period`, as `detail` allows.
pub async fn view(
    pool: &PgPool,
    tenancy: &Tenancy,
    schools: Vec<String>,
    period: (NaiveDate, NaiveDate),
    detail: Detail,
) -> Result<DashboardView, Problem> {
    let now = Utc::now();
    let dashboard = store::dashboard(pool, &schools, bounds(period), now)
        .await
        .map_err(unavailable)?;
    let schools = schools
        .iter()
        .map(|school_id| SchoolFigures {
            school_id: school_id.clone(),
            name: tenancy
                .school(school_id)
                .map(|(_, school)| school.name.clone())
                .unwrap_or_default(),
            figures: FiguresView::new(&dashboard.schools[school_id], detail),
        })
        .collect();
    Ok(DashboardView {
        from: period.0,
        to: period.1,
        generated_at: now,
        small_counts_suppressed: detail == Detail::SmallCountsSuppressed,
        schools,
        total: FiguresView::new(&dashboard.total, detail),
    })
}

/// Every school of the trust and the trust in total, for its safeguarding lead (and, with small counts
/// suppressed, its governors).
#[utoipa::path(get, path = "/api/v1/trusts/{trust_id}/dashboard", operation_id = "get_trust_dashboard", tag = "reporting",
    params(("trust_id" = String, Path), ("from" = Option<String>, Query, description = "YYYY-MM-DD; default a year before to"),
           ("to" = Option<String>, Query, description = "YYYY-MM-DD, inclusive; default today")),
    responses((status = 200, description = "The figures", body = DashboardView),
              (status = 400, description = "A malformed period", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")))]
pub async fn trust_dashboard(
    req: HttpRequest,
    caller: Caller,
    trust_id: web::Path<String>,
    pool: web::Data<PgPool>,
    tenancy: web::Data<Tenancy>,
) -> Result<HttpResponse, Problem> {
    let trust = trust_of(&tenancy, &caller, &trust_id, &TRUST_READERS)?;
    let detail = if caller.has_trust_role(&trust.id, TrustRole::TrustSafeguardingLead) {
        Detail::Exact
    } else {
        Detail::SmallCountsSuppressed
    };
    let period = period(&req, Utc::now().date_naive())?;
    let schools = trust.schools.iter().map(|school| school.id.clone()).collect();
    Ok(HttpResponse::Ok().json(view(&pool, &tenancy, schools, period, detail).await?))
}

/// One school's figures, for its DSL, deputies and headteacher (and its trust's safeguarding lead).
#[utoipa::path(get, path = "/api/v1/schools/{school_id}/dashboard", operation_id = "get_school_dashboard", tag = "reporting",
    params(("school_id" = String, Path), ("from" = Option<String>, Query, description = "YYYY-MM-DD"),
           ("to" = Option<String>, Query, description = "YYYY-MM-DD, inclusive")),
    responses((status = 200, description = "The figures", body = DashboardView),
              (status = 400, description = "A malformed period", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")))]
pub async fn school_dashboard(
    req: HttpRequest,
    caller: Caller,
    school_id: web::Path<String>,
    pool: web::Data<PgPool>,
    tenancy: web::Data<Tenancy>,
) -> Result<HttpResponse, Problem> {
    let (trust, school) = tenancy.school(&school_id).ok_or_else(Problem::not_found)?;
    let leads = [SchoolRole::Dsl, SchoolRole::DeputyDsl, SchoolRole::Headteacher]
        .into_iter()
        .any(|role| caller.has_school_role(&school.id, role));
    if !(leads || caller.has_trust_role(&trust.id, TrustRole::TrustSafeguardingLead)) {
        return Err(Problem::not_found());
    }
    let period = period(&req, Utc::now().date_naive())?;
    Ok(HttpResponse::Ok().json(view(&pool, &tenancy, vec![school.id.clone()], period, Detail::Exact).await?))
}
