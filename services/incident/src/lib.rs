//! The incident service: online-safety concerns and each school's Designated Safeguarding Lead workflow.
//!
//! It owns the database `trustsafe_incident`: the concern and workflow streams, and tables kept in step
//! with them. Its events reach the shared log through the outbox relay (their restricted parts never
//! do); it reacts to filtering breaches escalated on `trustsafe.filtering.v1`.

mod api;
mod clock;
pub mod demo;
pub mod domain;
mod error;
mod incidents;
pub mod reactions;
mod store;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use trustsafe_eventstore::{Consumer, ConsumerConfig};
use trustsafe_servicekit::{HostConfig, RunningService, ServiceBase, ServiceSpec};
use utoipa::OpenApi;

use crate::clock::Clock;
use crate::incidents::Incidents;
use crate::store::IncidentStore;

pub const SPEC: ServiceSpec = ServiceSpec { name: "incident" };

/// The resources under `/api/v1/schools/{school_id}/` this service owns (online-safety concerns and the school's DSL workflow): the
/// gateway routes them here.
pub const SCHOOL_RESOURCES: &[&str] = &["incidents", "workflow"];

/// This service's OpenAPI document, served at `/openapi.json` and merged by the gateway.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc =
        SPEC.openapi("Online-safety concerns and each school's Designated Safeguarding Lead workflow.");
    doc.merge(api::IncidentApi::openapi());
    doc
}

pub async fn start(config: &HostConfig) -> anyhow::Result<RunningService> {
    let mut base = ServiceBase::connect(SPEC, config).await?;
    let store = IncidentStore::new(base.store.clone());
    store.migrate().await?;
    if let Some(warning) =
        domain::deadline::BankHolidays::england_and_wales().warning(chrono::Utc::now().date_naive())
    {
        tracing::warn!("{warning}");
    }

    let consumer = Consumer::new(
        store.pool().clone(),
        Arc::new(reactions::BreachEscalations {
            store: store.clone(),
            tenancy: config.tenancy.clone(),
        }),
        ConsumerConfig::new(&config.log),
    );
    base.spawn(|shutdown| async move {
        // The consumer returns only when it cannot go on (the broker refused it): start it again.
        while !shutdown.is_cancelled() {
            if let Err(err) = consumer.run(shutdown.clone()).await {
                tracing::warn!(%err, "filtering consumer stopped; restarting");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
        }
    });

    let incidents = web::Data::new(Incidents::new(
        store,
        config.tenancy.clone(),
        Clock::default(),
        config.pseudonyms.clone(),
    ));
    base.serve(openapi(), move |cfg| {
        cfg.app_data(incidents.clone()).configure(api::configure);
    })
    .await
}
