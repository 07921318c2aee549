//! `POST /api/v1/schools/{school_id}/filtering/alerts`: a monitor's alerts, pushed as JSON.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use serde_json::Value;
use sha2::{Digest, Sha256};
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::body::json_object;
use utoipa::ToSchema;

use crate::app::ingest::{AlertReport, Ingest, SenderScope};
use crate::domain::alerts::{self, IncomingAlert};
use crate::domain::ingest::Refusal;

/// The most alerts one push carries.
pub const MAX_ALERTS: usize = 5_000;

/// A push: the alerts, oldest first or in any order.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AlertPush {
    alerts: Vec<IncomingAlert>,
}

/// Takes a monitor's alerts (the school's technician or its filter feed): each is checked on its own
/// and, when it passes, is a flagged breach in its normalised category (the same person, address and
/// category within an hour is one breach), escalated to a concern at once at severity 4 or more. Those
/// that fail are refused by their place in the list, with why; the rest are kept (207). The same push
/// again changes nothing and answers as the first time.
#[utoipa::path(operation_id = "push_filter_alerts", tag = "filtering",
    params(("school_id" = String, Path)),
    request_body(content = AlertPush),
    responses(
        (status = 200, description = "Every alert taken", body = AlertReport),
        (status = 207, description = "Some alerts refused (each by index, with why); the others taken", body = AlertReport),
        (status = 400, description = "Not a push at all (malformed JSON, `alerts` not a list)", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "More than 5,000 alerts or 8 MiB", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/schools/{school_id}/filtering/alerts")]
pub async fn push(
    req: HttpRequest,
    scope: SenderScope,
    payload: web::Payload,
    ingest: web::Data<Ingest>,
) -> Result<HttpResponse, Problem> {
    let push = json_object(&req, payload, 8 * 1024 * 1024, false).await?;
    let not_a_push = || {
        Problem::new(
            Kind::Validation,
            "The body is {\"alerts\": [...]}, and nothing else.",
        )
        .with_error("alerts", "is a list of alerts")
    };
    let object = push.as_object().ok_or_else(not_a_push)?;
    let Some(Value::Array(alerts)) = object.get("alerts") else {
        return Err(not_a_push());
    };
    if object.len() != 1 {
        return Err(not_a_push());
    }
    if alerts.len() > MAX_ALERTS {
        return Err(Problem::new(
            Kind::PayloadTooLarge,
            format!("A push carries at most {MAX_ALERTS} alerts; send them in parts."),
        ));
    }
    let digest: String = Sha256::digest(push.to_string().as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let now = Utc::now();
    let (mut taken, mut refused) = (Vec::new(), Vec::new());
    for (index, raw) in alerts.iter().enumerate() {
        match alerts::check(raw, now) {
            Ok(alert) => taken.push(alert),
            Err(reason) => refused.push(Refusal {
                line: index as u64 + 1,
                reason,
            }),
        }
    }
    let report = ingest.alerts(&scope, &digest, &taken, refused).await?;
    let status = if report.alerts_refused > 0 {
        StatusCode::MULTI_STATUS
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(report))
}
