//! The governors' termly report: figures only, small counts suppressed, as JSON or CSV.

use actix_web::get;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgPool;
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::policy::TrustReaders;
use trustsafe_servicekit::{Tenancy, TrustScope};
use utoipa::ToSchema;

use super::figures::{DashboardView, FiguresView};
use crate::app::figures::report;
use crate::domain::audience::Audience;
use crate::domain::periods::named_term;
use crate::domain::suppression::Detail;
use trustsafe_servicekit::query::{accepts_csv, query};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TermQuery {
    term: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct GovernorsReport {
    pub trust_id: String,
    pub term: String,
    #[serde(flatten)]
    pub figures: DashboardView,
}

/// The rows of the CSV: one per figure and key, for each school and the total.
fn csv(report: &GovernorsReport) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["school_id", "school", "figure", "key", "value"])?;
    let named = report
        .figures
        .schools
        .iter()
        .map(|school| (school.school_id.as_str(), school.name.as_str(), &school.figures))
        .chain([("total", "All schools", &report.figures.total)]);
    for (school_id, school, figures) in named {
        let figures = serde_json::to_value::<&FiguresView>(figures).expect("figures serialise");
        for (figure, value) in figures.as_object().into_iter().flatten() {
            let mut row = |key: &str, value: &Value| {
                let value = match value {
                    Value::String(text) => text.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                writer.write_record([school_id, school, figure.as_str(), key, value.as_str()])
            };
            match value {
                Value::Object(by_key) => by_key.iter().try_for_each(|(key, value)| row(key, value))?,
                other => row("", other)?,
            }
        }
    }
    writer.into_inner().map_err(|err| err.into_error().into())
}

/// The termly report to governors: per school and in total, figures only, counts from 1 to 4 as
/// "<5". JSON, or CSV with `Accept: text/csv`. For the trust safeguarding lead and the trust's governors.
#[utoipa::path(operation_id = "get_governors_report", tag = "reporting",
    params(("trust_id" = String, Path), ("term" = String, Query, description = "e.g. 2026-autumn, 2027-spring, 2027-summer")),
    responses((status = 200, description = "The report", content(
                  (GovernorsReport = "application/json"),
                  (String = "text/csv", example = "school_id,school,figure,key,value\nraps,Ramsgate Arts Primary School,concerns_by_category,cyberbullying,<5\n"))),
              (status = 400, description = "No term, or a malformed one", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")))]
#[get("/api/v1/trusts/{trust_id}/reports/governors")]
pub async fn governors_report(
    req: HttpRequest,
    scope: TrustScope<TrustReaders>,
    pool: web::Data<PgPool>,
    tenancy: web::Data<Tenancy>,
) -> Result<HttpResponse, Problem> {
    let asked: TermQuery = query(&req, "")?;
    let (term, period) = named_term(asked.term.as_deref())?;
    let schools = tenancy.school_ids(&scope.trust_id);
    let audience = (&Audience::Trust, Detail::SmallCountsSuppressed);
    let report = GovernorsReport {
        trust_id: scope.trust_id.clone(),
        term,
        figures: report(&pool, &tenancy, schools, period, audience).await?.into(),
    };
    if !accepts_csv(&req) {
        return Ok(HttpResponse::Ok().json(report));
    }
    let body = csv(&report)
        .map_err(|err| Problem::new(Kind::Internal, format!("The CSV could not be written: {err}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"governors-report-{}-{}.csv\"",
                report.trust_id, report.term
            ),
        ))
        .body(body))
}
