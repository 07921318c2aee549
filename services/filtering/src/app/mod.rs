//! The application core: load, authorise through the domain's rules, decide, append, answer a view;
//! and the consumer that learns the roster. It knows nothing of HTTP.

pub mod breaches;
pub mod error;
pub mod ingest;
pub mod roster;
