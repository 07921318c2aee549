//! The reporting API: figures only. This service holds no names and no narrative.

mod acceptable_use;
mod cases;
mod dashboards;
mod figures;
mod filtering;
mod governors;
mod policy_reviews;

use trustsafe_problem::{Kind, Problem};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::periods::PeriodError;

/// Every route of the service's API.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(dashboards::trust_dashboard)
        .service(dashboards::school_dashboard)
        .service(cases::cases)
        .service(governors::governors_report)
        .service(policy_reviews::list)
        .service(filtering::trust_filtering)
        .service(acceptable_use::trust_acceptable_use)
        .service(acceptable_use::school_acceptable_use);
}

/// The document's tags and shared schemas; the paths come from [`routes`].
#[derive(OpenApi)]
#[openapi(
    components(schemas(trustsafe_problem::ProblemDocument)),
    tags((name = "reporting", description = "Figures across a trust's schools, its pseudonymised case list, the governors' report and policy reviews"))
)]
pub struct ReportingApi;

/// A period the domain refuses, as a problem naming the query parameter at fault.
impl From<PeriodError> for Problem {
    fn from(err: PeriodError) -> Problem {
        Problem::new(Kind::Validation, err.detail).with_error(err.field, err.reason)
    }
}
