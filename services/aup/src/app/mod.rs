//! The application core: load, authorise through the domain's rules, decide, append, answer a view.
//! It knows nothing of HTTP.

pub mod access;
pub mod demo;
pub mod error;
pub mod imports;
pub mod policies;
pub mod roster;
