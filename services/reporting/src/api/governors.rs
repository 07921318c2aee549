//! The governors' termly report: figures only, small counts suppressed, as JSON or CSV: the concerns,
//! the filtering breaches, where each school stands with its filtering duties, and acceptable use.

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

use super::acceptable_use::AcceptableUseFiguresView;
use super::figures::DashboardView;
use super::filtering::{BreachFiguresView, DutyStandingView};
use crate::app::acceptable_use::acceptable_use_figures;
use crate::app::breaches::{breach_figures, duty_standing};
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
    pub filtering: GovernorsFiltering,
    pub acceptable_use: GovernorsAcceptableUse,
}

/// Where each school's roster stands with its acceptable-use policy (today), access on record, and the
/// term's visitors, suppressed as everything here is.
#[derive(Serialize, ToSchema)]
pub struct GovernorsAcceptableUse {
    pub schools: Vec<SchoolAcceptableUse>,
    pub total: AcceptableUseFiguresView,
}

#[derive(Serialize, ToSchema)]
pub struct SchoolAcceptableUse {
    pub school_id: String,
    pub name: String,
    pub figures: AcceptableUseFiguresView,
}

/// Filtering breaches first seen in the term (open and overdue: now), suppressed as the concerns'
/// figures are, and each school's filtering and monitoring duties, which governors oversee.
#[derive(Serialize, ToSchema)]
pub struct GovernorsFiltering {
    pub schools: Vec<SchoolFiltering>,
    pub total: BreachFiguresView,
}

#[derive(Serialize, ToSchema)]
pub struct SchoolFiltering {
    pub school_id: String,
    pub name: String,
    pub figures: BreachFiguresView,
    pub duties: DutyStandingView,
}

/// The rows of the CSV: one per figure and key (a nested key as `ks2/current`), for each school and
/// the total. Filtering's figures are named `filtering.…`, the duties `filtering_duties.…`, acceptable
/// use `acceptable_use.…`.
fn csv(report: &GovernorsReport) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["school_id", "school", "figure", "key", "value"])?;
    fn json(figures: &impl Serialize) -> Value {
        serde_json::to_value(figures).expect("figures serialise")
    }
    let concerns = report
        .figures
        .schools
        .iter()
        .map(|school| {
            (
                school.school_id.as_str(),
                school.name.as_str(),
                "",
                json(&school.figures),
            )
        })
        .chain([("total", "All schools", "", json(&report.figures.total))]);
    let filtering = report.filtering.schools.iter().flat_map(|school| {
        [
            (
                school.school_id.as_str(),
                school.name.as_str(),
                "filtering.",
                json(&school.figures),
            ),
            (
                school.school_id.as_str(),
                school.name.as_str(),
                "filtering_duties.",
                json(&school.duties),
            ),
        ]
    });
    let filtering_total = [(
        "total",
        "All schools",
        "filtering.",
        json(&report.filtering.total),
    )];
    let acceptable_use = report
        .acceptable_use
        .schools
        .iter()
        .map(|school| {
            (
                school.school_id.as_str(),
                school.name.as_str(),
                "acceptable_use.",
                json(&school.figures),
            )
        })
        .chain([(
            "total",
            "All schools",
            "acceptable_use.",
            json(&report.acceptable_use.total),
        )]);
    let sections = concerns
        .chain(filtering)
        .chain(filtering_total)
        .chain(acceptable_use);
    for (school_id, school, prefix, figures) in sections {
        for (figure, value) in figures.as_object().into_iter().flatten() {
            let figure = format!("{prefix}{figure}");
            let mut row = |key: &str, value: &Value| {
                writer.write_record([school_id, school, figure.as_str(), key, cell(value).as_str()])
            };
            let Value::Object(by_key) = value else {
                row("", value)?;
                continue;
            };
            for (key, value) in by_key {
                match value {
                    Value::Object(by_subkey) => by_subkey
                        .iter()
                        .try_for_each(|(subkey, value)| row(&format!("{key}/{subkey}"), value))?,
                    other => row(key, other)?,
                }
            }
        }
    }
    writer.into_inner().map_err(|err| err.into_error().into())
}

/// A value as one cell: text as it is, a list joined by "; ", nothing for null.
fn cell(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
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
    let detail = Detail::SmallCountsSuppressed;
    let figures: DashboardView = report(
        &pool,
        &tenancy,
        schools.clone(),
        period,
        (&Audience::Trust, detail),
    )
    .await?
    .into();
    let (mut breaches, total) = breach_figures(&pool, &schools, period, detail).await?;
    let mut duties = duty_standing(&pool, &schools).await?;
    let filtering = GovernorsFiltering {
        schools: figures
            .schools
            .iter()
            .map(|school| SchoolFiltering {
                school_id: school.school_id.clone(),
                name: school.name.clone(),
                figures: breaches
                    .remove(&school.school_id)
                    .expect("every school is counted")
                    .into(),
                duties: duties
                    .remove(&school.school_id)
                    .expect("every school stands")
                    .into(),
            })
            .collect(),
        total: total.into(),
    };
    let (mut acceptable, total) =
        acceptable_use_figures(&pool, &scope.trust_id, &schools, period, detail).await?;
    let acceptable_use = GovernorsAcceptableUse {
        schools: figures
            .schools
            .iter()
            .map(|school| SchoolAcceptableUse {
                school_id: school.school_id.clone(),
                name: school.name.clone(),
                figures: acceptable
                    .remove(&school.school_id)
                    .expect("every school is counted")
                    .into(),
            })
            .collect(),
        total: total.into(),
    };
    let report = GovernorsReport {
        trust_id: scope.trust_id.clone(),
        term,
        figures,
        filtering,
        acceptable_use,
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
