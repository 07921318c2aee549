//! The read model's SQL: what the projection writes, and what the figures and case list read.

pub mod acceptable_use;
pub mod breaches;
pub mod figures;
pub mod filtering_duties;
pub mod projection;
