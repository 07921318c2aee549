//! Event store, relay and consumer kit against a real PostgreSQL and a real Kafka-protocol broker.

mod append;
mod consumer;
mod order;
mod relay;
mod stranded;
mod support;
mod topics;
mod trace;
mod volume;
