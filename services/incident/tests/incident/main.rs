//! Incident service tests over real HTTP through the gateway, against a real PostgreSQL and broker.

mod access;
mod audit;
mod lifecycle;
mod support;
mod unhappy;
