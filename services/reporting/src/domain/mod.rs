//! Reporting's rules, pure: whose concerns a figure may count, over which periods, and how figures
//! are shown to whom. No IO: the store reads, the API answers.

pub mod audience;
pub mod periods;
pub mod suppression;
