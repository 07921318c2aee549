//! The aup service: acceptable-use documents and agreements, people from the MIS, access grants, visitor passes and device loans.
//!
//! It owns the database `trustsafe_aup` and publishes its events from there to the shared log. So
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
    name: "aup",
    summary: "Acceptable-use documents and agreements, people from the MIS, access grants, visitor passes and device loans.",
    document: api::Api::openapi,
    routes: api::routes,
    consumers: &[],
    start: |config| Box::pin(trustsafe_servicekit::start(&SERVICE, config)),
};
