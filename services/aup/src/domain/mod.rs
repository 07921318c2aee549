//! The aup domain, pure: commands become events, events become state, and the rules of who may see
//! and do what. No IO, no actix, no sqlx, no clock. Empty until the service has rules.
