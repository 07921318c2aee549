//! Acceptable use across the trust's schools and at one school: where each roster stands with its own
//! policy, access on record, and visitors per month.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::PgPool;
use trustsafe_problem::Problem;
use trustsafe_servicekit::policy::{SafeguardingLeads, TrustLead};
use trustsafe_servicekit::{SchoolScope, Tenancy, TrustScope};
use utoipa::ToSchema;

use super::figures::{CountView, views};
use super::months_asked;
use crate::app::acceptable_use::acceptable_use_figures;
use crate::domain::periods::Days;
use crate::domain::suppression::{Detail, ShownAcceptableUse};

/// Access to systems on record.
#[derive(Serialize, ToSchema)]
pub struct GrantsView {
    /// Not revoked, and the holder's agreement is current.
    pub in_force: CountView,
    /// Not revoked, but the holder's agreement is no longer current: they give nothing until the
    /// person signs again; renew or revoke them.
    pub lapsed: CountView,
    /// Given when the person had no current agreement: must be 0 (the aup service refuses them; this
    /// checks it from the log).
    pub granted_without_agreement: CountView,
}

/// One school's acceptable-use figures (or the trust's). Exact for the trust's safeguarding lead and
/// the school's leads; for governors "<5" for 1 to 4 and "withheld" where a figure would give one away.
#[derive(Serialize, ToSchema)]
pub struct AcceptableUseFiguresView {
    /// People on the roster by their own policy (eyfs_ks1, ks2, ks3_5, send_learners, staff,
    /// parents_carers), then by where they stand today: current, due (to sign again soon), overdue,
    /// missing (never signed), declined, no_policy (none in force for them).
    pub compliance: BTreeMap<String, BTreeMap<String, CountView>>,
    /// Pupils without a year group: no policy can be named for them until the MIS gives one.
    pub unplaced: CountView,
    pub grants: GrantsView,
    /// Visitors who agreed to the visitors' policy, by month (YYYY-MM, UTC), in the period.
    pub visitors_by_month: BTreeMap<String, CountView>,
}

impl From<ShownAcceptableUse> for AcceptableUseFiguresView {
    fn from(shown: ShownAcceptableUse) -> Self {
        let mut compliance: BTreeMap<String, BTreeMap<String, CountView>> = BTreeMap::new();
        for (key, count) in &shown.compliance {
            let (audience, standing) = key.split_once('/').unwrap_or((key, ""));
            compliance
                .entry(audience.to_owned())
                .or_default()
                .insert(standing.to_owned(), CountView(*count));
        }
        Self {
            compliance,
            unplaced: CountView(shown.unplaced),
            grants: GrantsView {
                in_force: CountView(shown.grants_in_force),
                lapsed: CountView(shown.grants_lapsed),
                granted_without_agreement: CountView(shown.granted_without_agreement),
            },
            visitors_by_month: views(&shown.visitors_by_month),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AcceptableUseView {
    /// The first and last days of the period (visitors; standings and grants are as of today).
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub schools: BTreeMap<String, AcceptableUseFiguresView>,
    pub total: AcceptableUseFiguresView,
}

impl AcceptableUseView {
    pub fn new(
        days: Days,
        (schools, total): (BTreeMap<String, ShownAcceptableUse>, ShownAcceptableUse),
    ) -> Self {
        Self {
            from: days.0,
            to: days.1,
            schools: schools
                .into_iter()
                .map(|(school, figures)| (school, figures.into()))
                .collect(),
            total: total.into(),
        }
    }
}

/// Acceptable use at each of the trust's schools and in total, for its safeguarding lead: everyone on
/// each roster by their own policy and where they stand today; access on record, lapsed, and any given
/// without a current agreement (must be 0); visitors per month. No one is named.
#[utoipa::path(operation_id = "get_trust_acceptable_use", tag = "reporting",
    params(("trust_id" = String, Path),
           ("from" = Option<String>, Query, description = "The first month of visitors, YYYY-MM; by default eleven months before to"),
           ("to" = Option<String>, Query, description = "The last month, YYYY-MM, inclusive; by default this month")),
    responses((status = 200, description = "The figures", body = AcceptableUseView),
              (status = 400, description = "A malformed period", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")))]
#[get("/api/v1/trusts/{trust_id}/acceptable-use")]
pub async fn trust_acceptable_use(
    req: HttpRequest,
    scope: TrustScope<TrustLead>,
    pool: web::Data<PgPool>,
    tenancy: web::Data<Tenancy>,
) -> Result<HttpResponse, Problem> {
    let days = months_asked(&req)?;
    let schools = tenancy.school_ids(&scope.trust_id);
    let figures = acceptable_use_figures(&pool, &scope.trust_id, &schools, days, Detail::Exact).await?;
    Ok(HttpResponse::Ok().json(AcceptableUseView::new(days, figures)))
}

/// One school's acceptable use, for its DSL, deputies and headteacher (and its trust's safeguarding
/// lead): the same figures as the trust's, for the school alone. Who they are is the aup service's
/// `aup-compliance`.
#[utoipa::path(operation_id = "get_school_acceptable_use", tag = "reporting",
    params(("school_id" = String, Path),
           ("from" = Option<String>, Query, description = "The first month of visitors, YYYY-MM"),
           ("to" = Option<String>, Query, description = "The last month, YYYY-MM, inclusive")),
    responses((status = 200, description = "The figures", body = AcceptableUseView),
              (status = 400, description = "A malformed period", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")))]
#[get("/api/v1/schools/{school_id}/acceptable-use")]
pub async fn school_acceptable_use(
    req: HttpRequest,
    scope: SchoolScope<SafeguardingLeads>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, Problem> {
    let days = months_asked(&req)?;
    let schools = vec![scope.school_id.clone()];
    let figures = acceptable_use_figures(&pool, &scope.trust_id, &schools, days, Detail::Exact).await?;
    Ok(HttpResponse::Ok().json(AcceptableUseView::new(days, figures)))
}
