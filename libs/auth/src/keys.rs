//! Where verification keys come from: a JWKS URL (looked up by `kid`) or a configured public key.
//! Each key carries the one algorithm its type allows, so a token cannot choose a weaker one
//! (no HS256 "signed" with an RSA public key, no `none`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::Mutex;

use crate::AuthError;

/// A key and the algorithm it verifies.
pub(crate) struct VerifyingKey {
    pub key: DecodingKey,
    pub algorithm: Algorithm,
}

/// By default, at most one JWKS fetch per this interval, however many unknown `kid`s arrive.
const REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// A JWKS larger than this is refused rather than read.
const MAX_JWKS_BYTES: usize = 64 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Verification keys; see the constructors.
pub struct KeySource(Source);

enum Source {
    /// Keys known at start-up. A key with no id verifies tokens with no `kid`.
    Static(HashMap<Option<String>, Arc<VerifyingKey>>),
    Jwks(JwksSource),
}

pub struct JwksSource {
    url: String,
    client: reqwest::Client,
    state: Mutex<JwksState>,
    refresh_interval: Duration,
}

#[derive(Default)]
struct JwksState {
    keys: HashMap<String, Arc<VerifyingKey>>,
    last_fetch: Option<Instant>,
}

impl KeySource {
    /// A single public key in PEM (RSA → RS256, EC P-256 → ES256, Ed25519 → EdDSA).
    pub fn public_key_pem(pem: &[u8]) -> Result<Self, AuthError> {
        let key = if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            VerifyingKey {
                key,
                algorithm: Algorithm::RS256,
            }
        } else if let Ok(key) = DecodingKey::from_ec_pem(pem) {
            VerifyingKey {
                key,
                algorithm: Algorithm::ES256,
            }
        } else if let Ok(key) = DecodingKey::from_ed_pem(pem) {
            VerifyingKey {
                key,
                algorithm: Algorithm::EdDSA,
            }
        } else {
            return Err(AuthError::Config(
                "the public key is not an RSA, EC P-256 or Ed25519 PEM".into(),
            ));
        };
        Ok(Self(Source::Static(HashMap::from([(None, Arc::new(key))]))))
    }

    /// The keys of a JWK set, fixed (the dev identity's, say).
    pub fn jwk_set(set: &JwkSet) -> Self {
        Self(Source::Static(
            set.keys
                .iter()
                .filter_map(|jwk| Some((jwk.common.key_id.clone(), Arc::new(verifying_key(jwk)?))))
                .collect(),
        ))
    }

    /// Keys fetched from `url` when first needed and again (at most every ten seconds) when a token
    /// names a `kid` not seen yet.
    pub fn jwks_url(url: impl Into<String>) -> Self {
        Self(Source::Jwks(JwksSource {
            url: url.into(),
            client: reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .build()
                .expect("a default HTTP client"),
            state: Mutex::new(JwksState::default()),
            refresh_interval: REFRESH_INTERVAL,
        }))
    }

    /// Changes how often an unknown `kid` may trigger a JWKS fetch (default ten seconds).
    pub fn with_refresh_interval(mut self, interval: Duration) -> Self {
        if let Source::Jwks(source) = &mut self.0 {
            source.refresh_interval = interval;
        }
        self
    }

    pub(crate) async fn find(&self, kid: Option<&str>) -> Result<Arc<VerifyingKey>, AuthError> {
        match &self.0 {
            // A token's kid picks among named keys; a single unnamed key verifies whatever kid says.
            Source::Static(keys) => keys
                .get(&kid.map(str::to_owned))
                .or_else(|| if keys.len() == 1 { keys.get(&None) } else { None })
                .cloned()
                .ok_or(AuthError::UnknownKey),
            Source::Jwks(source) => source.find(kid.ok_or(AuthError::UnknownKey)?).await,
        }
    }
}

impl JwksSource {
    async fn find(&self, kid: &str) -> Result<Arc<VerifyingKey>, AuthError> {
        // Held across the fetch, so a burst of unknown kids causes one request, not many.
        let mut state = self.state.lock().await;
        if let Some(key) = state.keys.get(kid) {
            return Ok(key.clone());
        }
        let may_refresh = state
            .last_fetch
            .is_none_or(|at| at.elapsed() >= self.refresh_interval);
        if !may_refresh {
            return Err(AuthError::UnknownKey);
        }
        state.last_fetch = Some(Instant::now());
        let set = self.fetch().await?;
        state.keys = set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, Arc::new(verifying_key(jwk)?))))
            .collect();
        state.keys.get(kid).cloned().ok_or(AuthError::UnknownKey)
    }

    async fn fetch(&self) -> Result<JwkSet, AuthError> {
        let unreachable = |reason: String| AuthError::KeysUnavailable(format!("{}: {reason}", self.url));
        let mut response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|err| unreachable(err.to_string()))?;
        if !response.status().is_success() {
            return Err(unreachable(format!("answered {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| unreachable(err.to_string()))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_JWKS_BYTES {
                return Err(unreachable(format!("larger than {MAX_JWKS_BYTES} bytes")));
            }
        }
        serde_json::from_slice(&body).map_err(|err| unreachable(format!("not a JWK set: {err}")))
    }
}

/// The key of a JWK with the algorithm its type pins; None for a key this service will not use
/// (symmetric keys, other curves, or a declared `alg` that contradicts the key type).
fn verifying_key(jwk: &Jwk) -> Option<VerifyingKey> {
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => Algorithm::EdDSA,
        _ => return None,
    };
    let declared = jwk.common.key_algorithm.map(|declared| match declared {
        KeyAlgorithm::RS256 => Some(Algorithm::RS256),
        KeyAlgorithm::ES256 => Some(Algorithm::ES256),
        KeyAlgorithm::EdDSA => Some(Algorithm::EdDSA),
        _ => None,
    });
    if declared.is_some_and(|declared| declared != Some(algorithm)) {
        return None;
    }
    Some(VerifyingKey {
        key: DecodingKey::from_jwk(jwk).ok()?,
        algorithm,
    })
}
