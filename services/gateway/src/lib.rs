//! The gateway: the one door schools, the trust and MIS systems use. It authenticates every request,
//! answers 404 for a school or trust the caller has no grant on (existence is never revealed),
//! rate-limits per caller, and streams the request to the service that owns the path. The owning
//! service checks the caller again, in detail: this is defence in depth, not the only check. It also
//! serves the web dashboard at `/`.

mod config;
mod identity;
mod metrics;
mod openapi;
mod pages;
mod proxy;
mod server;
mod trusts;

pub use config::{DemoUser, GatewayConfig, Upstream};
pub use openapi::{gateway_document, merged_document};
pub use server::{RunningGateway, start};
