//! filtering service tests over real HTTP through the gateway, against a real PostgreSQL and broker.

mod alerts;
mod duties;
mod life;
mod logs;
mod reading;
mod reports;
mod roster;
mod support;
