//! The reporting service: cross-school read models from the shared log, for the trust safeguarding
//! lead's dashboards and pseudonymised case list.
//!
//! It owns the database `trustsafe_reporting` and reads `trustsafe.incident.v1` as the consumer group
//! `reporting.concerns`, `trustsafe.filtering.v1` as `reporting.breaches` and `trustsafe.aup.v1` as
//! `reporting.acceptable_use`. The log carries no names and no narrative, so neither does this service.

mod api;
mod app;
pub mod domain;
mod store;

pub use app::acceptable_use::AcceptableUseFacts;
pub use app::breaches::BreachFacts;
pub use app::projection::ReadModel;

use std::sync::Arc;

use actix_web::web;
use anyhow::Context;
use sqlx::PgPool;
use trustsafe_eventstore::kafka::SharedLog;
use trustsafe_eventstore::{Consumer, ConsumerConfig};
use trustsafe_servicekit::{HostConfig, PseudonymKey, RunningService, Service, ServiceBase};
use utoipa::OpenApi;

pub static SERVICE: Service = Service {
    name: "reporting",
    summary: "Figures across a trust's schools from the shared log, and the trust's pseudonymised case list.",
    document: api::ReportingApi::openapi,
    routes: api::routes,
    consumers: &[ReadModel::NAME, BreachFacts::NAME, AcceptableUseFacts::NAME],
    // Its endpoints read; none takes a body.
    body_limit: 64 * 1024,
    start: |config| Box::pin(start(config)),
};

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
pub fn consumer(pool: PgPool, log: &SharedLog, pseudonyms: Arc<PseudonymKey>) -> Consumer<ReadModel> {
    Consumer::new(pool, Arc::new(ReadModel { pseudonyms }), ConsumerConfig::new(log))
}

/// The consumer of `trustsafe.aup.v1` (`reporting.acceptable_use`): rosters, policies, agreements,
/// grants and visits, counted by the aup service's rules.
pub fn acceptable_use_consumer(pool: PgPool, log: &SharedLog) -> Consumer<AcceptableUseFacts> {
    Consumer::new(pool, Arc::new(AcceptableUseFacts), ConsumerConfig::new(log))
}

/// The consumer of `trustsafe.filtering.v1` (`reporting.breaches`): breaches and the schools' duties.
pub fn breach_consumer(pool: PgPool, log: &SharedLog) -> Consumer<BreachFacts> {
    Consumer::new(pool, Arc::new(BreachFacts), ConsumerConfig::new(log))
}

async fn start(config: &HostConfig) -> anyhow::Result<RunningService> {
    let mut base = ServiceBase::connect(&SERVICE, config).await?;
    let pool = base.store.pool().clone();
    migrate(&pool).await?;
    base.run_consumer(consumer(pool.clone(), &config.log, config.pseudonyms.clone()));
    base.run_consumer(breach_consumer(pool.clone(), &config.log));
    base.run_consumer(acceptable_use_consumer(pool.clone(), &config.log));
    let pool = web::Data::new(pool);
    let pseudonyms = web::Data::from(config.pseudonyms.clone());
    base.serve(move |cfg| {
        cfg.app_data(pool.clone()).app_data(pseudonyms.clone());
    })
    .await
}
