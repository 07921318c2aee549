//! Who is asking: JWTs verified against a JWKS URL or a configured public key, turned into a
//! [`Caller`] with grants per school and per trust. Services check those grants themselves; the
//! gateway's check is defence in depth.

mod authenticator;
mod caller;
pub mod dev;
mod extract;
mod keys;

pub use authenticator::{AuthConfig, AuthError, Authenticator};
pub use caller::{Caller, Grants, SchoolRole, Scope, TrustRole};
pub use extract::bearer_token;
pub use keys::KeySource;
