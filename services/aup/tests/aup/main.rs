//! aup service tests over real HTTP through the gateway, against a real PostgreSQL and broker.

mod access;
mod agreements;
mod imports;
mod reading;
mod support;
mod sync;
