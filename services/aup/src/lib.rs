//! The aup service: acceptable-use documents and agreements, people from the MIS, access grants, visitor passes and device loans.
//!
//! It owns the database `trustsafe_aup`: each person's stream and the roster table kept in step with
//! it. Its events reach `trustsafe.aup.v1` through the outbox relay, carrying ids, kinds, year groups,
//! flags and keyed hashes of account names; names and contact details stay here. A signed
//! acceptable-use policy is an *agreement*.

mod api;
pub mod app;
pub mod domain;
mod store;

use actix_web::web;
use trustsafe_servicekit::{HostConfig, RunningService, Service, ServiceBase};
use utoipa::OpenApi;

pub use app::demo;

use crate::app::access::Access;
use crate::app::imports::Imports;
use crate::app::policies::Policies;
use crate::app::roster::Roster;
use crate::store::{AccessStore, PeopleStore, PolicyStore};

pub static SERVICE: Service = Service {
    name: "aup",
    summary: "Acceptable-use documents and agreements, people from the MIS, access grants, visitor passes and device loans.",
    document: api::Api::openapi,
    routes: api::routes,
    consumers: &[],
    body_limit: api::BODY_LIMIT,
    start: |config| Box::pin(start(config)),
};

async fn start(config: &HostConfig) -> anyhow::Result<RunningService> {
    let base = ServiceBase::connect(&SERVICE, config).await?;
    store::migrate(base.store.pool()).await?;
    let people = PeopleStore::new(base.store.clone());
    let roster = web::Data::new(Roster::new(people.clone(), config.pseudonyms.clone()));
    let versions = PolicyStore::new(base.store.clone());
    let policies = web::Data::new(Policies::new(
        people.clone(),
        versions.clone(),
        config.pseudonyms.clone(),
    ));
    let imports = web::Data::new(Imports::new(
        people,
        versions.clone(),
        policies.clone().into_inner(),
    ));
    let access = web::Data::new(Access::new(
        AccessStore::new(base.store.clone()),
        policies.clone().into_inner(),
        versions,
        config.pseudonyms.clone(),
    ));
    base.serve(move |cfg| {
        cfg.app_data(roster.clone())
            .app_data(policies.clone())
            .app_data(access.clone())
            .app_data(imports.clone());
    })
    .await
}
