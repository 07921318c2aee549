//! The incident domain, pure: no IO, no actix, no sqlx. Commands become events, events become state.

pub mod category;
pub mod procedures;
