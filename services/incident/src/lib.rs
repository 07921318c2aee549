//! The incident service: online-safety concerns and each school's Designated Safeguarding Lead workflow.
//!
//! It owns the database `trustsafe_incident`: the concern and workflow streams, and tables kept in step
//! with them. Its events reach the shared log through the outbox relay (their restricted parts never
//! do); it reacts to filtering breaches escalated on `trustsafe.filtering.v1`, and learns who is on
//! each school's roster (ids and kinds) from `trustsafe.aup.v1`.

mod api;
pub mod app;
pub mod domain;
mod store;

use std::sync::Arc;

use actix_web::web;
use trustsafe_eventstore::{Consumer, ConsumerConfig};
use trustsafe_servicekit::{HostConfig, RunningService, Service, ServiceBase};
use utoipa::OpenApi;

use crate::app::clock::Clock;
use crate::app::concerns::Concerns;
use crate::app::reactions::BreachEscalations;
use crate::app::roster::Roster;
use crate::store::ConcernStore;

pub use app::demo;

pub static SERVICE: Service = Service {
    name: "incident",
    summary: "Online-safety concerns and each school's Designated Safeguarding Lead workflow.",
    document: api::ConcernApi::openapi,
    routes: api::routes,
    consumers: &[BreachEscalations::NAME, Roster::NAME],
    body_limit: api::BODY_LIMIT,
    start: |config| Box::pin(start(config)),
};

async fn start(config: &HostConfig) -> anyhow::Result<RunningService> {
    let mut base = ServiceBase::connect(&SERVICE, config).await?;
    let store = ConcernStore::new(base.store.clone());
    store.migrate().await?;
    if let Some(warning) =
        domain::deadline::BankHolidays::england_and_wales().warning(chrono::Utc::now().date_naive())
    {
        tracing::warn!("{warning}");
    }
    base.run_consumer(Consumer::new(
        store.pool().clone(),
        Arc::new(BreachEscalations {
            store: store.clone(),
            tenancy: config.tenancy.clone(),
        }),
        ConsumerConfig::new(&config.log),
    ));
    base.run_consumer(Consumer::new(
        store.pool().clone(),
        Arc::new(Roster),
        ConsumerConfig::new(&config.log),
    ));
    let concerns = web::Data::new(Concerns::new(store, Clock::default(), config.pseudonyms.clone()));
    base.serve(move |cfg| {
        cfg.app_data(concerns.clone());
    })
    .await
}
