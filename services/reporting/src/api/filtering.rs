//! `GET /api/v1/trusts/{trust_id}/filtering`: filtering breaches across the trust's schools.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use trustsafe_problem::Problem;
use trustsafe_servicekit::policy::TrustLead;
use trustsafe_servicekit::query::query;
use trustsafe_servicekit::{Tenancy, TrustScope};
use utoipa::ToSchema;

use crate::app::breaches::breach_figures;
use crate::domain::breaches::BreachFigures;
use crate::domain::periods::months;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Months {
    from: Option<String>,
    to: Option<String>,
}

/// Whether the parents of pupils in genuine breaches first seen in the period were told in time.
#[derive(Serialize, ToSchema)]
pub struct ParentsView {
    pub owed: i64,
    pub told_on_time: i64,
    pub told_late: i64,
    pub not_yet_told: i64,
}

/// One school's filtering figures (or the trust's).
#[derive(Serialize, ToSchema)]
pub struct BreachFiguresView {
    /// Breaches first seen in the period, by normalised category.
    pub by_category: BTreeMap<String, i64>,
    /// By severity, 1 to 5 (5: illegal content).
    pub by_severity: BTreeMap<String, i64>,
    /// By month first seen (YYYY-MM, UTC).
    pub by_month: BTreeMap<String, i64>,
    /// Escalated to a concern.
    pub escalated: i64,
    /// Unresolved now, whatever the period.
    pub open: i64,
    /// Not triaged by their deadline, now.
    pub overdue_triage: i64,
    /// Parents not told by their deadline, now.
    pub overdue_parents: i64,
    pub parents: ParentsView,
}

impl From<BreachFigures> for BreachFiguresView {
    fn from(figures: BreachFigures) -> Self {
        Self {
            by_category: figures.by_category,
            by_severity: figures
                .by_severity
                .into_iter()
                .map(|(severity, n)| (severity.to_string(), n))
                .collect(),
            by_month: figures.by_month,
            escalated: figures.escalated,
            open: figures.open,
            overdue_triage: figures.overdue_triage,
            overdue_parents: figures.overdue_parents,
            parents: ParentsView {
                owed: figures.parents_owed,
                told_on_time: figures.parents_told_on_time,
                told_late: figures.parents_told_late,
                not_yet_told: figures.parents_not_yet_told,
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TrustFilteringView {
    /// The first and last days of the period.
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub schools: BTreeMap<String, BreachFiguresView>,
    pub total: BreachFiguresView,
}

/// Filtering breaches at each of the trust's schools and in total, for its safeguarding lead: by
/// category, severity and month; open and overdue now; parents told in time. No one is named.
#[utoipa::path(operation_id = "get_trust_filtering", tag = "reporting",
    params(("trust_id" = String, Path),
           ("from" = Option<String>, Query, description = "The first month, YYYY-MM; by default eleven months before to"),
           ("to" = Option<String>, Query, description = "The last month, YYYY-MM, inclusive; by default this month")),
    responses((status = 200, description = "The figures", body = TrustFilteringView),
              (status = 400, description = "A malformed period", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")))]
#[get("/api/v1/trusts/{trust_id}/filtering")]
pub async fn trust_filtering(
    req: HttpRequest,
    scope: TrustScope<TrustLead>,
    pool: web::Data<PgPool>,
    tenancy: web::Data<Tenancy>,
) -> Result<HttpResponse, Problem> {
    let asked: Months = query(&req, " A period is from=YYYY-MM&to=YYYY-MM.")?;
    let days = months(
        asked.from.as_deref(),
        asked.to.as_deref(),
        None,
        Utc::now().date_naive(),
    )?;
    let schools = tenancy.school_ids(&scope.trust_id);
    let (per_school, total) = breach_figures(&pool, &schools, days).await?;
    Ok(HttpResponse::Ok().json(TrustFilteringView {
        from: days.0,
        to: days.1,
        schools: per_school
            .into_iter()
            .map(|(school, figures)| (school, figures.into()))
            .collect(),
        total: total.into(),
    }))
}
