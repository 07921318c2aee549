//! The reporting API: figures only. This service holds no names and no narrative.

mod cases;
mod dashboards;
mod figures;
mod governors;
mod policy_reviews;

use trustsafe_auth::{Caller, TrustRole};
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::Tenancy;
use trustsafe_servicekit::tenancy::Trust;
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

/// Every route of the service's API.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(dashboards::trust_dashboard)
        .service(dashboards::school_dashboard)
        .service(cases::cases)
        .service(governors::governors_report)
        .service(policy_reviews::list);
}

/// The document's tags and shared schemas; the paths come from [`routes`].
#[derive(OpenApi)]
#[openapi(
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
