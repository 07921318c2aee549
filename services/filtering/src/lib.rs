//! The filtering service: filtering breaches, monitoring alerts, the filtering-policy change log and filter checks.
//!
//! It owns the database `trustsafe_filtering` and publishes its events from there to the shared log. So
//! far it is the host every service starts from (its event store, its outbox relay, the operations
//! endpoints); its four rooms are ready for what comes next. A filtering record is a *breach*, a
//! signed acceptable-use policy an *agreement*.

mod api;
pub mod app;
pub mod domain;
mod store;

use trustsafe_servicekit::Service;
use utoipa::OpenApi;

pub static SERVICE: Service = Service {
    name: "filtering",
    summary: "Filtering breaches, monitoring alerts, the filtering-policy change log and filter checks.",
    document: api::Api::openapi,
    routes: api::routes,
    consumers: &[],
    body_limit: 1024 * 1024,
    start: |config| Box::pin(trustsafe_servicekit::start(&SERVICE, config)),
};
