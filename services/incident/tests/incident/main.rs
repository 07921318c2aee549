//! Incident service tests over real HTTP through the gateway, against a real PostgreSQL and broker.

mod access;
mod audit;
mod breaches;
mod concurrency;
mod images;
mod lifecycle;
mod roster;
mod support;
mod unhappy;
mod workflow;
