//! `POST /api/v1/schools/{school_id}/filtering/logs`: a filter's log, read as it streams in.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono_tz::Tz;
use serde::Deserialize;
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::body::BoundedBody;
use trustsafe_servicekit::query::query;

use super::BODY_LIMIT;
use crate::app::ingest::{Ingest, SenderScope, UploadReport, refused};
use crate::domain::feeds::Format;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    format: Format,
    /// Where the filter keeps its clock (IANA name), for formats that write no offset.
    timezone: Option<String>,
}

/// A filter's log as its bytes: text lines, or gzip.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct LogBody(#[allow(dead_code)] Vec<u8>);

const LOG_QUERY: &str = " Name the format (squid, squid_common, e2guardian_csv, e2guardian_tab, e2guardian_5, squidguard, fortigate, smoothwall_csv, lightspeed_csv) and, if the filter's clock is not in Europe/London, its timezone.";

/// Takes a filter's log, plain or gzip (told by its first bytes), up to 64 MiB as sent: the school's
/// technician or its filter's feed (`filter_feed` scope). Blocked and flagged requests become breaches
/// (the same person, host and category within an hour of the first sighting is one, with a count);
/// every request is counted by hour, category and action; each line that does not fit the format is
/// refused by number with the reason and the rest are kept. The same bytes again change nothing and
/// answer as the first time (`repeated`). 207 when some lines were refused.
#[utoipa::path(operation_id = "upload_filter_log", tag = "filtering",
    params(("school_id" = String, Path),
           ("format" = Format, Query, description = "The log's format"),
           ("timezone" = Option<String>, Query, description = "IANA zone of the filter's clock, default Europe/London")),
    request_body(content = LogBody, content_type = "application/octet-stream", description = "The log, one request a line; gzip is recognised by its magic bytes"),
    responses(
        (status = 200, description = "Every line read", body = UploadReport),
        (status = 207, description = "Some lines refused (each by number, with why); the others kept", body = UploadReport),
        (status = 400, description = "No body, or a query without a known format or zone", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "More than 64 MiB as sent", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "The upload cannot be read at all: a CSV header without the columns its format needs, a broken gzip stream", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/schools/{school_id}/filtering/logs")]
pub async fn upload(
    req: HttpRequest,
    scope: SenderScope,
    payload: web::Payload,
    ingest: web::Data<Ingest>,
) -> Result<HttpResponse, Problem> {
    let asked: LogQuery = query(&req, LOG_QUERY)?;
    let zone: Tz = match asked.timezone.as_deref() {
        None => chrono_tz::Europe::London,
        Some(name) => name.parse().map_err(|_| {
            Problem::new(
                Kind::Validation,
                format!("timezone {name:?} is not an IANA zone such as Europe/London."),
            )
            .with_error("timezone", "is not an IANA zone")
        })?,
    };
    let mut body = BoundedBody::new(&req, payload, BODY_LIMIT)?;
    if !body.is_present() {
        return Err(Problem::new(
            Kind::Validation,
            "The body is the log: it is empty.",
        ));
    }
    let mut upload = ingest.begin(&scope, asked.format, zone).await?;
    while let Some(chunk) = body.next_chunk().await {
        upload.push(&chunk?).map_err(|err| Problem::from(refused(err)))?;
    }
    let report = ingest.finish(&scope, upload, asked.format).await?;
    let status = if report.lines_refused > 0 {
        StatusCode::MULTI_STATUS
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(report))
}
