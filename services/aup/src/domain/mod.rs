//! The aup domain, pure: the rules of the roster (what a record must be, what a sync does, who may
//! read whom) and of acceptable use (which policy is in force, who signs it, where each person
//! stands). No IO, no actix, no sqlx, no clock: time comes in as a value.

pub mod access;
pub mod agreements;
pub mod documents;
pub mod people;
pub mod upn;
