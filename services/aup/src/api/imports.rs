//! `POST /api/v1/schools/{school_id}/agreements/imports`: acceptances another system collected
//! (Smoothwall Monitor's log-on AUP log, Microsoft Entra's Terms of Use records), from its CSV export.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use trustsafe_events::aup::{AcceptanceSystem, Audience};
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::SchoolScope;
use trustsafe_servicekit::body::BoundedBody;
use trustsafe_servicekit::policy::AnyRole;
use trustsafe_servicekit::query::query;
use utoipa::ToSchema;

use super::BODY_LIMIT;
use crate::app::imports::{ImportReport, Imports};
use crate::domain::imports::Unmatched;

const PROBLEM: &str = "application/problem+json";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    system: Option<String>,
    audience: Option<String>,
}

/// An export as its bytes: CSV with a header line.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ExportBody(#[allow(dead_code)] Vec<u8>);

#[derive(Serialize, ToSchema)]
pub struct UnmatchedLine {
    pub line: u64,
    /// The user name as the export gives it.
    pub user: String,
    #[schema(example = "no one on the roster has this account")]
    pub reason: &'static str,
}

/// A line refused, and why.
#[derive(Serialize, ToSchema)]
pub struct RefusedLine {
    pub line: u64,
    pub reason: String,
}

/// What became of every line after the header: `lines` is the sum of the others (the unmatched and
/// refused counted by their lists).
#[derive(Serialize, ToSchema)]
pub struct ImportView {
    #[schema(example = "smoothwall_monitor")]
    pub system: &'static str,
    pub lines: u64,
    pub recorded: u64,
    /// A person's latest answer the record already holds, or a later one.
    pub already_recorded: u64,
    /// Earlier answers of a person whose latest one stands (a log-on log holds one per log-on).
    pub superseded: u64,
    /// Acceptances the system says have expired.
    pub expired: u64,
    pub blank: u64,
    pub unmatched: Vec<UnmatchedLine>,
    pub refused: Vec<RefusedLine>,
}

impl From<ImportReport> for ImportView {
    fn from(report: ImportReport) -> Self {
        Self {
            system: report.system.name(),
            lines: report.lines,
            recorded: report.recorded,
            already_recorded: report.already_recorded,
            superseded: report.superseded,
            expired: report.expired,
            blank: report.blank,
            unmatched: report
                .unmatched
                .into_iter()
                .map(|(line, user, why)| UnmatchedLine {
                    line,
                    user,
                    reason: match why {
                        Unmatched::NoOne => "no one on the roster has this account",
                        Unmatched::MoreThanOne => {
                            "more than one person on the roster has an account of this name"
                        }
                    },
                })
                .collect(),
            refused: report
                .refused
                .into_iter()
                .map(|(line, reason)| RefusedLine { line, reason })
                .collect(),
        }
    }
}

fn asked(req: &HttpRequest) -> Result<(AcceptanceSystem, Option<Audience>), Problem> {
    let asked: ImportQuery = query(
        req,
        " Name the system (smoothwall_monitor or entra_terms_of_use) and, if not each person's own, the audience.",
    )?;
    let system = asked
        .system
        .as_deref()
        .and_then(|name| {
            AcceptanceSystem::ALL
                .into_iter()
                .find(|system| system.name() == name)
        })
        .ok_or_else(|| {
            Problem::new(
                Kind::Validation,
                "system is smoothwall_monitor or entra_terms_of_use.",
            )
            .with_error("system", "is not a system whose exports are read")
        })?;
    let audience = asked
        .audience
        .map(|name| {
            Audience::ALL
                .into_iter()
                .find(|audience| audience.name() == name)
                .ok_or_else(|| {
                    Problem::new(
                        Kind::Validation,
                        "audience is the name of a policy's audience, such as wifi_users.",
                    )
                    .with_error("audience", "is not an audience")
                })
        })
        .transpose()?;
    Ok((system, audience))
}

/// Imports acceptances another system already collected: Smoothwall Monitor's log-on AUP log or
/// Microsoft Entra's Terms of Use acceptance records, as CSV (columns found by their header names, in
/// any order). Each user name is matched to a person on the roster by their directory accounts (whole,
/// or the name alone where only one person has it); each person's latest answer is recorded to the
/// version of their own policy (or `audience`'s) in force when they gave it, as imported, unless the
/// record already holds it or a later one (so the same export twice changes nothing). Lines matching no
/// one, or more than one person, come back with their user name; lines that cannot be read, or answers
/// that cannot be recorded (a policy a parent signs, one more than a year old), with why. For the
/// school's leads and technician.
#[utoipa::path(operation_id = "import_acceptances", tag = "acceptable-use",
    params(("school_id" = String, Path),
           ("system" = String, Query, description = "smoothwall_monitor or entra_terms_of_use"),
           ("audience" = Option<String>, Query, description = "The policy the answers were to; by default each person's own")),
    request_body(description = "The export, with its header line, as its bytes (any Content-Type: an export saved as a file is sent as it is)",
        content((ExportBody = "application/octet-stream"), (ExportBody = "text/csv"))),
    responses(
        (status = 200, description = "Every line accounted for", body = ImportView),
        (status = 207, description = "Some lines matched no one or were refused (each by number, with why); the others recorded", body = ImportView),
        (status = 400, description = "No body, or no known system or audience", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
        (status = 403, description = "Staff who may not import", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
        (status = 413, description = "More than 16 MiB", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
        (status = 422, description = "The export cannot be read: no header, or a header without the user, the answer and the time", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
    ))]
#[post("/api/v1/schools/{school_id}/agreements/imports")]
pub async fn import_acceptances(
    req: HttpRequest,
    scope: SchoolScope<AnyRole>,
    payload: web::Payload,
    imports: web::Data<Imports>,
) -> Result<HttpResponse, Problem> {
    Imports::may(&scope)?;
    let (system, audience) = asked(&req)?;
    let body = BoundedBody::new(&req, payload, BODY_LIMIT)?;
    if !body.is_present() {
        return Err(Problem::new(
            Kind::Validation,
            "The body is the export: it is empty.",
        ));
    }
    let export = body.collect().await?;
    let report = imports.import(&scope, system, audience, &export).await?;
    let status = if report.unmatched.is_empty() && report.refused.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::MULTI_STATUS
    };
    Ok(HttpResponse::build(status).json(ImportView::from(report)))
}
