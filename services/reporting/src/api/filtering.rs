//! `GET /api/v1/trusts/{trust_id}/filtering`: filtering breaches across the trust's schools.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::Utc;
use serde::Serialize;
use sqlx::PgPool;
use trustsafe_problem::Problem;
use trustsafe_servicekit::policy::TrustLead;
use trustsafe_servicekit::{Tenancy, TrustScope};
use utoipa::ToSchema;

use super::figures::{CountView, views};
use super::months_asked;
use crate::app::breaches::{breach_figures, cross_school_patterns, duty_standing};
use crate::domain::filtering_duties::DutyStanding;
use crate::domain::patterns::{Pattern, PatternKey};
use crate::domain::suppression::{Detail, ShownBreaches};

/// Whether the parents of pupils in genuine breaches first seen in the period were told in time.
#[derive(Serialize, ToSchema)]
pub struct ParentsView {
    pub owed: CountView,
    pub told_on_time: CountView,
    pub told_late: CountView,
    pub not_yet_told: CountView,
}

/// One school's filtering figures (or the trust's). Exact for the trust's safeguarding lead; for
/// governors "<5" for 1 to 4 and "withheld" where a figure would give one away, as in the concerns'.
#[derive(Serialize, ToSchema)]
pub struct BreachFiguresView {
    /// Breaches first seen in the period, by normalised category.
    pub by_category: BTreeMap<String, CountView>,
    /// By severity, 1 to 5 (5: illegal content).
    pub by_severity: BTreeMap<String, CountView>,
    /// By month first seen (YYYY-MM, UTC).
    pub by_month: BTreeMap<String, CountView>,
    /// Escalated to a concern.
    pub escalated: CountView,
    /// Unresolved now, whatever the period.
    pub open: CountView,
    /// Not triaged by their deadline, now.
    pub overdue_triage: CountView,
    /// Parents not told by their deadline, now.
    pub overdue_parents: CountView,
    pub parents: ParentsView,
}

impl From<ShownBreaches> for BreachFiguresView {
    fn from(shown: ShownBreaches) -> Self {
        Self {
            by_category: views(&shown.by_category),
            by_severity: views(&shown.by_severity),
            by_month: views(&shown.by_month),
            escalated: CountView(shown.escalated),
            open: CountView(shown.open),
            overdue_triage: CountView(shown.overdue_triage),
            overdue_parents: CountView(shown.overdue_parents),
            parents: ParentsView {
                owed: CountView(shown.parents_owed),
                told_on_time: CountView(shown.parents_told_on_time),
                told_late: CountView(shown.parents_told_late),
                not_yet_told: CountView(shown.parents_not_yet_told),
            },
        }
    }
}

/// Where a school stands with its DfE filtering and monitoring duties, now.
#[derive(Serialize, ToSchema)]
pub struct DutyStandingView {
    /// senior_leader, governor, dsl, it_provider: not yet named.
    pub roles_missing: Vec<String>,
    pub last_check_at: Option<chrono::DateTime<Utc>>,
    /// Never checked, or the latest check is more than a term ago.
    pub check_due: bool,
    pub last_reviewed_on: Option<chrono::NaiveDate>,
    pub next_review_by: Option<chrono::NaiveDate>,
    /// overdue, current or not_recorded
    #[schema(example = "current")]
    pub review: String,
    /// Filtering-policy changes proposed and not yet decided, or approved and not yet applied.
    pub changes_awaiting: i64,
}

impl From<DutyStanding> for DutyStandingView {
    fn from(standing: DutyStanding) -> Self {
        Self {
            roles_missing: standing.roles_missing.into_iter().map(String::from).collect(),
            last_check_at: standing.last_check_at,
            check_due: standing.check_due,
            last_reviewed_on: standing.last_reviewed_on,
            next_review_by: standing.next_review_by,
            review: standing.review.to_owned(),
            changes_awaiting: standing.changes_awaiting,
        }
    }
}

/// The same blocked host, or the same category of monitoring alert, at two or more schools within a
/// week. Nobody is named, and nor is the host: its reference is the start of its key, which each
/// school's DSL finds beside the breach.
#[derive(Serialize, ToSchema)]
pub struct PatternView {
    /// host or alert_category
    #[schema(example = "host")]
    pub kind: String,
    /// A host's key, shortened, or the alert category.
    #[schema(example = "3fa9c2d1e07b")]
    pub reference: String,
    pub category: String,
    pub schools: Vec<String>,
    pub first_seen: chrono::DateTime<Utc>,
    pub last_seen: chrono::DateTime<Utc>,
    pub breaches: usize,
}

impl From<Pattern> for PatternView {
    fn from(pattern: Pattern) -> Self {
        let (kind, reference) = match pattern.key {
            PatternKey::Host(key) => ("host", key.chars().take(12).collect()),
            PatternKey::AlertCategory(category) => ("alert_category", category),
        };
        Self {
            kind: kind.to_owned(),
            reference,
            category: pattern.category,
            schools: pattern.schools.into_iter().collect(),
            first_seen: pattern.first_seen,
            last_seen: pattern.last_seen,
            breaches: pattern.breaches,
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
    /// Each school's filtering and monitoring duties: roles, checks, the annual review, changes.
    pub duties: BTreeMap<String, DutyStandingView>,
    /// The same host or alert category at two schools within a week, in the period; newest first.
    pub patterns: Vec<PatternView>,
}

/// Filtering breaches at each of the trust's schools and in total, for its safeguarding lead: by
/// category, severity and month; open and overdue now; parents told in time; and where each school
/// stands with its filtering duties (roles, checks, the annual review, changes awaiting); the same host
/// or alert category at two schools within a week. No one is named.
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
    let days = months_asked(&req)?;
    let schools = tenancy.school_ids(&scope.trust_id);
    let (per_school, total) = breach_figures(&pool, &schools, days, Detail::Exact).await?;
    let duties = duty_standing(&pool, &schools).await?;
    let patterns = cross_school_patterns(&pool, &schools, days).await?;
    Ok(HttpResponse::Ok().json(TrustFilteringView {
        from: days.0,
        to: days.1,
        schools: per_school
            .into_iter()
            .map(|(school, figures)| (school, figures.into()))
            .collect(),
        total: total.into(),
        duties: duties
            .into_iter()
            .map(|(school, standing)| (school, standing.into()))
            .collect(),
        patterns: patterns.into_iter().map(PatternView::from).collect(),
    }))
}
