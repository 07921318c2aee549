//! The filtering service: filtering breaches from filters' logs, the filter's hourly figures, and the
//! roster's accounts that say whose a breach is; the DfE duties (the filtering-policy change log, named
//! roles, checks and the annual review).
//!
//! It owns the database `trustsafe_filtering`: each breach's stream and the table kept in step with
//! it. Its events reach `trustsafe.filtering.v1` through the outbox relay, carrying categories,
//! severities, counts and the kind and year of who was involved; user names, devices and addresses
//! stay here. It learns the roster's account hashes from `trustsafe.aup.v1`. A filtering record is a
//! *breach*.

mod api;
pub mod app;
pub use app::demo_history;
pub mod domain;
mod store;

use std::sync::Arc;

use actix_web::web;
use trustsafe_eventstore::{Consumer, ConsumerConfig};
use trustsafe_servicekit::{HostConfig, RunningService, Service, ServiceBase};
use utoipa::OpenApi;

use crate::app::breaches::Breaches;
use crate::app::categories::Categories;
use crate::app::changes::Changes;
use crate::app::duties::Duties;
use crate::app::ingest::Ingest;
use crate::app::roster::RosterAccounts;
use crate::store::{BreachStore, DutyStore, RosterStore};

pub static SERVICE: Service = Service {
    name: "filtering",
    summary: "Filtering breaches from filters' logs, the filter's hourly figures, and whose each breach is.",
    document: api::Api::openapi,
    routes: api::routes,
    consumers: &[RosterAccounts::NAME],
    body_limit: api::BODY_LIMIT,
    start: |config| Box::pin(start(config)),
};

async fn start(config: &HostConfig) -> anyhow::Result<RunningService> {
    let mut base = ServiceBase::connect(&SERVICE, config).await?;
    store::migrate(base.store.pool()).await?;
    base.run_consumer(Consumer::new(
        base.store.pool().clone(),
        Arc::new(RosterAccounts::new(RosterStore::new(base.store.clone()))),
        ConsumerConfig::new(&config.log),
    ));
    let breaches = BreachStore::new(base.store.clone());
    let ingest = web::Data::new(Ingest::new(breaches.clone(), config.pseudonyms.clone()));
    let categories = web::Data::new(Categories::new(breaches.clone(), config.pseudonyms.clone()));
    let duty_store = DutyStore::new(base.store.clone());
    let changes = web::Data::new(Changes::new(
        duty_store.clone(),
        breaches.clone(),
        config.pseudonyms.clone(),
    ));
    let duties = web::Data::new(Duties::new(
        duty_store,
        config.pseudonyms.clone(),
        config.tenancy.clone(),
    ));
    let reading = web::Data::new(Breaches::new(breaches, config.pseudonyms.clone()));
    base.serve(move |cfg| {
        cfg.app_data(ingest.clone())
            .app_data(reading.clone())
            .app_data(categories.clone())
            .app_data(changes.clone())
            .app_data(duties.clone());
    })
    .await
}
