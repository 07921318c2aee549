//! Reporting's rules, pure: whose concerns a figure may count, over which periods, how figures are
//! shown to whom, and what the case list and policy reviews say. No IO: the store reads, the API
//! answers.

pub mod acceptable_use;
pub mod acknowledgement;
pub mod audience;
pub mod breaches;
pub mod cases;
pub mod filtering_duties;
pub mod patterns;
pub mod periods;
pub mod policy_reviews;
pub mod suppression;
