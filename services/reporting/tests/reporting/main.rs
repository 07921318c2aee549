//! Reporting tests: the read models from a real broker, through the gateway over real HTTP.

mod acceptable_use;
mod dashboards;
mod filtering;
mod governors;
mod support;
mod whistleblowing;
