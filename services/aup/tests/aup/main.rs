//! aup service tests over real HTTP through the gateway, against a real PostgreSQL and broker.

mod reading;
mod support;
mod sync;
