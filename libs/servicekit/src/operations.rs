//! `/healthz`, `/readyz` and `/metrics`: what an operator (or Kubernetes) asks every service.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::json;
use sqlx::PgPool;

/// What readiness depends on: the service's own database and the broker.
#[derive(Clone)]
pub struct Dependencies {
    pub pool: PgPool,
    pub kafka: Arc<BaseConsumer>,
}

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

/// The operations endpoints every service (and the gateway) has.
#[derive(utoipa::OpenApi)]
#[openapi(paths(healthz, readyz, metrics), tags((name = "operations", description = "Health, readiness and metrics")))]
pub struct OperationsApi;

/// Up: the process answers. Nothing else is checked, so a broker outage never restarts a service.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process answers")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "up"}))
}

/// Ready: the database and the broker both answer within two seconds.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Ready: every dependency answers"),
    (status = 503, description = "Not ready; the body names the dependency that does not answer")
))]
#[get("/readyz")]
async fn readyz(dependencies: web::Data<Dependencies>) -> HttpResponse {
    let database =
        tokio::time::timeout(PROBE_TIMEOUT, sqlx::query("SELECT 1").execute(&dependencies.pool)).await;
    let database_ok = matches!(database, Ok(Ok(_)));
    let kafka = dependencies.kafka.clone();
    let broker_ok = tokio::task::spawn_blocking(move || kafka.fetch_metadata(None, PROBE_TIMEOUT).is_ok())
        .await
        .unwrap_or(false);
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let body = json!({
        "status": if database_ok && broker_ok { "ready" } else { "not_ready" },
        "checks": {"database": word(database_ok), "broker": word(broker_ok)}
    });
    if database_ok && broker_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus text format, from the process-wide default registry.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "Prometheus text exposition format", content_type = "text/plain")
))]
#[get("/metrics")]
pub async fn metrics() -> HttpResponse {
    let encoder = prometheus::TextEncoder::new();
    match encoder.encode_to_string(&prometheus::gather()) {
        Ok(text) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4")
            .body(text),
        Err(err) => HttpResponse::ServiceUnavailable().body(err.to_string()),
    }
}
