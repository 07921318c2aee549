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

/// Up: the process answers. Nothing else is checked, so a broker outage never restarts a service.
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "up"}))
}

/// Ready: the database and the broker both answer within two seconds.
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
