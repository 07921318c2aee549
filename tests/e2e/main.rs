//! End-to-end tests of the `trustsafe` binary as a newcomer runs it: real processes, real ports.

mod bola;
mod cloudevents;
mod dashboard;
mod dev;
mod faults;
mod generated_client;
mod openapi;
mod privacy;
mod schemathesis;
mod serve;
mod stop;
mod token;
