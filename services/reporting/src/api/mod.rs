//! The reporting API: figures only. This service holds no names and no narrative.

mod cases;
mod dashboards;
mod figures;
mod governors;
mod policy_reviews;

use actix_web::web;
use trustsafe_auth::{Caller, TrustRole};
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::Tenancy;
use trustsafe_servicekit::tenancy::Trust;
use utoipa::OpenApi;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/trusts/{trust_id}/dashboard",
        web::get().to(dashboards::trust_dashboard),
    )
    .route("/api/v1/trusts/{trust_id}/cases", web::get().to(cases::cases))
    .route(
        "/api/v1/trusts/{trust_id}/reports/governors",
        web::get().to(governors::report),
    )
    .route(
        "/api/v1/trusts/{trust_id}/policy-reviews",
        web::get().to(policy_reviews::list),
    )
    .route(
        "/api/v1/schools/{school_id}/dashboard",
        web::get().to(dashboards::school_dashboard),
    );
}

#[derive(OpenApi)]
#[openapi(
    paths(
        dashboards::trust_dashboard,
        dashboards::school_dashboard,
        cases::cases,
        governors::report,
        policy_reviews::list
    ),
    components(schemas(trustsafe_problem::ProblemDocument)),
    tags((name = "reporting", description = "Figures across a trust's schools, its pseudonymised case list, the governors' report and policy reviews"))
)]
pub struct ReportingApi;

fn unavailable(err: sqlx::Error) -> Problem {
    tracing::error!(%err, "reporting store");
    Problem::new(
        Kind::Unavailable,
        "The reporting store is unavailable; try again shortly.",
    )
}

/// Who reads a trust's figures: its safeguarding lead, and its governors (with small counts suppressed).
const TRUST_READERS: [TrustRole; 2] = [TrustRole::TrustSafeguardingLead, TrustRole::TrustGovernor];

/// The trust, if the caller holds one of `roles` in it; else not found (existence is not revealed).
fn trust_of<'a>(
    tenancy: &'a Tenancy,
    caller: &Caller,
    trust_id: &str,
    roles: &[TrustRole],
) -> Result<&'a Trust, Problem> {
    tenancy
        .trust(trust_id)
        .filter(|trust| roles.iter().any(|role| caller.has_trust_role(&trust.id, *role)))
        .ok_or_else(Problem::not_found)
}
