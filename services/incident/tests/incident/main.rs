//! Incident service tests over real HTTP through the gateway, against a real PostgreSQL and broker.

mod lifecycle;
mod support;
