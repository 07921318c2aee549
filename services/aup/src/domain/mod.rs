//! The aup domain, pure: the rules of the roster (what a record must be, what a sync does, who may
//! read whom) and of acceptable use (which policy is in force, who signs it, where each person
//! stands, what another system's export of acceptances says). No IO, no actix, no sqlx, no clock: time comes in as a value.

pub mod access;
pub mod agreements;
pub mod documents;
pub mod imports;
pub mod people;
pub mod upn;
