//! Verifying a bearer token and reading its caller.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Validation, decode, decode_header};
use serde::Deserialize;
use thiserror::Error;
use trustsafe_problem::{Kind, Problem};

use crate::dev::DEV_ISSUER;
use crate::{Caller, Grants, KeySource};

/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 30;

pub struct AuthConfig {
    pub issuer: String,
    pub audience: String,
    pub keys: KeySource,
    /// Only `trustsafe dev` sets this: without it the dev issuer is refused at start-up.
    pub dev_mode: bool,
}

pub struct Authenticator {
    issuer: String,
    audience: String,
    keys: KeySource,
    /// Tokens already verified, until they expire or the key set changes: a signature check costs
    /// more than the rest of a cheap request, and the gateway and the service would otherwise both
    /// pay it every time.
    verified: Mutex<HashMap<String, Verified>>,
}

struct Verified {
    caller: Caller,
    exp: u64,
    /// The generation of the key set the token was verified under: once the issuer's keys change
    /// (a key removed), the token is checked again and a token of a removed key stops working.
    generation: u64,
}

/// Bound on remembered tokens; past it the memory is simply cleared.
const VERIFIED_CAPACITY: usize = 10_000;

#[derive(Debug, Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("the token is not a JWT: {0}")]
    Malformed(String),
    #[error("tokens naming their own keys (jku, x5u, jwk, x5c) are not accepted")]
    KeyReference,
    #[error("the token's key is not known")]
    UnknownKey,
    #[error("the token's algorithm is not its key's")]
    AlgorithmMismatch,
    #[error("the token does not verify: {0}")]
    Invalid(jsonwebtoken::errors::Error),
    #[error("the signing keys cannot be fetched: {0}")]
    KeysUnavailable(String),
    #[error("authentication is misconfigured: {0}")]
    Config(String),
}

impl From<AuthError> for Problem {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::KeysUnavailable(_) => {
                Problem::new(Kind::Unavailable, "Tokens cannot be verified just now.")
            }
            AuthError::Config(_) => Problem::new(Kind::Internal, "Authentication is misconfigured."),
            other => Problem::unauthorized(other.to_string()),
        }
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    trustsafe: Grants,
}

impl Authenticator {
    pub fn new(config: AuthConfig) -> Result<Self, AuthError> {
        if config.issuer == DEV_ISSUER && !config.dev_mode {
            return Err(AuthError::Config(format!(
                "the issuer {DEV_ISSUER} is only accepted in dev mode"
            )));
        }
        if config.issuer.is_empty() || config.audience.is_empty() {
            return Err(AuthError::Config("issuer and audience are required".into()));
        }
        if let Some(url) = config.keys.url()
            && !url.starts_with("https://")
            && !config.dev_mode
        {
            return Err(AuthError::Config(format!(
                "the JWKS URL {url} is not https: keys fetched in the clear could be replaced on the way"
            )));
        }
        Ok(Self {
            issuer: config.issuer,
            audience: config.audience,
            keys: config.keys,
            verified: Mutex::new(HashMap::new()),
        })
    }

    pub async fn authenticate(&self, token: &str) -> Result<Caller, AuthError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let remembered = self
            .verified
            .lock()
            .expect("not poisoned")
            .get(token)
            .filter(|verified| now < verified.exp)
            .map(|verified| (verified.caller.clone(), verified.generation));
        if let Some((caller, generation)) = remembered
            && self.keys.generation().await? == generation
        {
            return Ok(caller);
        }
        self.verify(token).await
    }

    async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let header = decode_header(token).map_err(|err| AuthError::Malformed(err.to_string()))?;
        // Never follow or trust a key the token points at or carries.
        if header.jku.is_some() || header.x5u.is_some() || header.jwk.is_some() || header.x5c.is_some() {
            return Err(AuthError::KeyReference);
        }
        let found = self.keys.find(header.kid.as_deref()).await?;
        let key = &found.key;
        if header.alg != key.algorithm {
            return Err(AuthError::AlgorithmMismatch);
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = decode::<Claims>(token, &key.key, &validation)
            .map_err(AuthError::Invalid)?
            .claims;
        if claims.sub.is_empty() {
            return Err(AuthError::Malformed("empty sub".into()));
        }
        let caller = Caller {
            subject: claims.sub,
            name: claims.name,
            grants: claims.trustsafe,
        };
        let mut verified = self.verified.lock().expect("not poisoned");
        if verified.len() >= VERIFIED_CAPACITY {
            verified.clear();
        }
        verified.insert(
            token.to_owned(),
            Verified {
                caller: caller.clone(),
                exp: claims.exp,
                generation: found.generation,
            },
        );
        Ok(caller)
    }
}
