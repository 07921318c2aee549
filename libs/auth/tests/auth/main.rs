//! Token verification over real HTTP: a JWKS server, a protected service, and a client.

mod dev_identity;
mod rotation;
mod support;
mod tokens;
