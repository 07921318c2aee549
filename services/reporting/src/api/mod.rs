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

use actix_web::HttpRequest;
use chrono::Utc;
use serde::Deserialize;
use trustsafe_servicekit::query::query;

use crate::domain::periods::{Days, PeriodError, months};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Months {
    from: Option<String>,
    to: Option<String>,
}

/// The whole months a query asks for (`from=YYYY-MM&to=YYYY-MM`; by default the twelve to this one).
fn months_asked(req: &HttpRequest) -> Result<Days, Problem> {
    let asked: Months = query(req, " A period is from=YYYY-MM&to=YYYY-MM.")?;
    Ok(months(
        asked.from.as_deref(),
        asked.to.as_deref(),
        None,
        Utc::now().date_naive(),
    )?)
}

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
