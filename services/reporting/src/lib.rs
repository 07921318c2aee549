//! The reporting service: cross-school read models from the shared log, for the trust safeguarding
//! lead's dashboards and pseudonymised case list.
//!
//! It owns the database `trustsafe_reporting` and reads `trustsafe.incident.v1` as the consumer group
//! `reporting.concerns`. The log carries no names and no narrative, so neither does this service.

mod api;
pub mod domain;
pub mod projection;
mod store;

/// Read by the tests, which check it against the database's `acknowledgement_bucket()`.
pub use store::bucket_minutes;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use anyhow::Context;
use sqlx::PgPool;
use trustsafe_eventstore::kafka::SharedLog;
use trustsafe_eventstore::{Consumer, ConsumerConfig};
use trustsafe_servicekit::{HostConfig, PseudonymKey, RunningService, ServiceBase, ServiceSpec};
use utoipa::OpenApi;

pub const SPEC: ServiceSpec = ServiceSpec { name: "reporting" };

/// The resources under `/api/v1/schools/{school_id}/` this service owns.
pub const SCHOOL_RESOURCES: &[&str] = &["dashboard"];
/// The resources under `/api/v1/trusts/{trust_id}/` this service owns.
pub const TRUST_RESOURCES: &[&str] = &["dashboard", "cases", "reports", "policy-reviews"];

pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = SPEC.openapi(
        "Figures across a trust's schools from the shared log, and the trust's pseudonymised case list.",
    );
    doc.merge(api::ReportingApi::openapi());
    doc
}

/// Creates or upgrades the read model's tables (the event store's, which the consumer kit uses, are
/// migrated by the host).
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.set_ignore_missing(true);
    migrator
        .run(pool)
        .await
        .context("reporting: migrating its read model")?;
    Ok(())
}

/// The consumer that keeps the read model, for the service and for `trustsafe replay reporting`.
pub fn consumer(
    pool: PgPool,
    log: &SharedLog,
    pseudonyms: Arc<PseudonymKey>,
) -> Consumer<projection::Concerns> {
    Consumer::new(
        pool,
        Arc::new(projection::Concerns { pseudonyms }),
        ConsumerConfig::new(log),
    )
}

pub async fn start(config: &HostConfig) -> anyhow::Result<RunningService> {
    let mut base = ServiceBase::connect(SPEC, config).await?;
    let pool = base.store.pool().clone();
    migrate(&pool).await?;
    let consumer = consumer(pool.clone(), &config.log, config.pseudonyms.clone());
    base.spawn(|shutdown| async move {
        // The consumer returns only when it cannot go on (the broker refused it): start it again.
        while !shutdown.is_cancelled() {
            if let Err(err) = consumer.run(shutdown.clone()).await {
                tracing::warn!(%err, "reporting consumer stopped; restarting");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
        }
    });
    let pool = web::Data::new(pool);
    let pseudonyms = web::Data::from(config.pseudonyms.clone());
    base.serve(openapi(), move |cfg| {
        cfg.app_data(pool.clone())
            .app_data(pseudonyms.clone())
            .configure(api::configure);
    })
    .await
}
