//! Reporting tests: the read models from a real broker, through the gateway over real HTTP.

mod dashboards;
mod filtering;
mod governors;
mod support;
mod whistleblowing;
