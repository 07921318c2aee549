//! The filtering domain, pure: reading vendors' logs, normalising their categories, gathering an
//! upload into breaches and hourly counts. No IO, no actix, no sqlx, no clock: time comes in as a value.

pub mod alerts;
pub mod breaches;
pub mod categories;
pub mod changes;
pub mod duties;
pub mod feeds;
pub mod ingest;
pub mod inspection;
pub mod life;
pub mod refusal;
pub mod reports;
pub mod suppression;
pub mod upload;
