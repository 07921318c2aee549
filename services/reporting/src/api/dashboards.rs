//! The trust's and a school's dashboards.

use actix_web::get;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use sqlx::PgPool;
use trustsafe_problem::Problem;
use trustsafe_servicekit::policy::{SafeguardingLeads, TrustReaders};
use trustsafe_servicekit::{PseudonymKey, Purpose, SchoolScope, Tenancy, TrustScope};

use super::figures::DashboardView;
use crate::app::figures::report;
use crate::domain::audience::{Audience, trust_detail};
use crate::domain::periods::{months, whole_term};
use crate::domain::suppression::Detail;
use trustsafe_servicekit::query::query;

const PERIOD: &str = " A period is from=YYYY-MM&to=YYYY-MM, or term=YYYY-season.";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Period {
    from: Option<String>,
    to: Option<String>,
    term: Option<String>,
}

/// Every school of the trust and the trust in total, for its safeguarding lead (any months), and for
/// its governors (whole terms, small counts suppressed with whatever would give them away).
#[utoipa::path(operation_id = "get_trust_dashboard", tag = "reporting",
    params(("trust_id" = String, Path), ("from" = Option<String>, Query, description = "The first month, YYYY-MM; by default eleven months before to (not for governors)"),
           ("to" = Option<String>, Query, description = "The last month, YYYY-MM, inclusive; by default this month (not for governors)"),
           ("term" = Option<String>, Query, description = "Governors: the term, e.g. 2026-autumn; by default this one")),
    responses((status = 200, description = "The figures", body = DashboardView),
              (status = 400, description = "A malformed period", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")))]
#[get("/api/v1/trusts/{trust_id}/dashboard")]
pub async fn trust_dashboard(
    req: HttpRequest,
    scope: TrustScope<TrustReaders>,
    pool: web::Data<PgPool>,
    tenancy: web::Data<Tenancy>,
) -> Result<HttpResponse, Problem> {
    let asked: Period = query(&req, PERIOD)?;
    let today = Utc::now().date_naive();
    let detail = trust_detail(&scope.caller, &scope.trust_id);
    let period = match detail {
        Detail::Exact => months(
            asked.from.as_deref(),
            asked.to.as_deref(),
            asked.term.as_deref(),
            today,
        )?,
        Detail::SmallCountsSuppressed => {
            let months_asked = asked.from.is_some() || asked.to.is_some();
            whole_term(asked.term.as_deref(), months_asked, today)?.1
        }
    };
    let schools = tenancy.school_ids(&scope.trust_id);
    let report = report(&pool, &tenancy, schools, period, (&Audience::Trust, detail)).await?;
    Ok(HttpResponse::Ok().json(DashboardView::from(report)))
}

/// One school's figures, for its DSL, deputies and headteacher (and its trust's safeguarding lead).
#[utoipa::path(operation_id = "get_school_dashboard", tag = "reporting",
    params(("school_id" = String, Path), ("from" = Option<String>, Query, description = "The first month, YYYY-MM"),
           ("to" = Option<String>, Query, description = "The last month, YYYY-MM, inclusive")),
    responses((status = 200, description = "The figures", body = DashboardView),
              (status = 400, description = "A malformed period", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")))]
#[get("/api/v1/schools/{school_id}/dashboard")]
pub async fn school_dashboard(
    req: HttpRequest,
    scope: SchoolScope<SafeguardingLeads>,
    pool: web::Data<PgPool>,
    tenancy: web::Data<Tenancy>,
    pseudonyms: web::Data<PseudonymKey>,
) -> Result<HttpResponse, Problem> {
    // School staff see their school without the concerns routed away from them.
    let audience = Audience::of_school_lead(&scope.caller, &scope.trust_id, |subject| {
        pseudonyms.pseudonym(Purpose::Alleged, &scope.trust_id, subject.as_bytes())
    });
    let asked: Period = query(&req, PERIOD)?;
    let period = months(
        asked.from.as_deref(),
        asked.to.as_deref(),
        asked.term.as_deref(),
        Utc::now().date_naive(),
    )?;
    let schools = vec![scope.school_id.clone()];
    let report = report(&pool, &tenancy, schools, period, (&audience, Detail::Exact)).await?;
    Ok(HttpResponse::Ok().json(DashboardView::from(report)))
}
