//! Where verification keys come from: a JWKS URL (looked up by `kid`) or a configured public key.
//! Each key carries the one algorithm its type allows, so a token cannot choose a weaker one
//! (no HS256 "signed" with an RSA public key, no `none`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};

use crate::AuthError;

/// A key and the algorithm it verifies.
pub(crate) struct VerifyingKey {
    pub key: DecodingKey,
    pub algorithm: Algorithm,
}

/// At most one JWKS fetch per this interval for `kid`s the set does not have, however many arrive.
const UNKNOWN_KID_INTERVAL: Duration = Duration::from_secs(10);
/// How long a fetched set is used before it is fetched again, unless the issuer's Cache-Control
/// says otherwise (within the bounds below): a key the issuer removes stops working within this.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
const MIN_MAX_AGE: Duration = Duration::from_secs(1);
const MAX_MAX_AGE: Duration = Duration::from_secs(3600);
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

/// A key found, and the generation of the key set it came from: a token verified under one
/// generation is verified again once the set has changed.
pub(crate) struct Found {
    pub key: Arc<VerifyingKey>,
    pub generation: u64,
}

#[derive(Clone)]
pub struct JwksSource(Arc<Jwks>);

struct Jwks {
    url: String,
    client: reqwest::Client,
    /// The current set. Read under a short lock, replaced whole after a fetch; never held across one.
    current: RwLock<Arc<KeySet>>,
    /// The fetch under way, shared by everyone who needs it (the lock only guards the handle).
    in_flight: Mutex<Option<(u64, SharedFetch)>>,
    fetches: std::sync::atomic::AtomicU64,
    unknown_kid_interval: Duration,
    /// The longest a set is used, whatever the issuer says.
    max_age_cap: Duration,
}

#[derive(Default)]
struct KeySet {
    keys: HashMap<String, Arc<VerifyingKey>>,
    generation: u64,
    /// When it was fetched and for how long it may be used; None before the first fetch.
    fetched: Option<(Instant, Duration)>,
    last_attempt: Option<Instant>,
}

impl KeySet {
    fn stale(&self) -> bool {
        self.fetched.is_none_or(|(at, max_age)| at.elapsed() >= max_age)
    }
}

type SharedFetch = Shared<BoxFuture<'static, Result<Fetched, String>>>;

#[derive(Clone)]
struct Fetched {
    keys: HashMap<String, Arc<VerifyingKey>>,
    max_age: Duration,
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

    /// Keys fetched from `url` when first needed, again when the set is older than its max-age
    /// (the issuer's `Cache-Control: max-age`, between 30 s and an hour; five minutes without one),
    /// and again (at most every ten seconds) when a token names a `kid` the set lacks.
    pub fn jwks_url(url: impl Into<String>) -> Self {
        Self(Source::Jwks(JwksSource(Arc::new(Jwks {
            url: url.into(),
            client: reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .build()
                .expect("a default HTTP client"),
            current: RwLock::new(Arc::new(KeySet::default())),
            in_flight: Mutex::new(None),
            fetches: std::sync::atomic::AtomicU64::new(0),
            unknown_kid_interval: UNKNOWN_KID_INTERVAL,
            max_age_cap: MAX_MAX_AGE,
        }))))
    }

    /// Changes how often an unknown `kid` may trigger a JWKS fetch (default ten seconds).
    pub fn with_refresh_interval(mut self, interval: Duration) -> Self {
        if let Source::Jwks(JwksSource(jwks)) = &mut self.0
            && let Some(jwks) = Arc::get_mut(jwks)
        {
            jwks.unknown_kid_interval = interval;
        }
        self
    }

    /// Uses a fetched set for at most `cap`, whatever the issuer's Cache-Control says (default an hour).
    pub fn with_max_age_cap(mut self, cap: Duration) -> Self {
        if let Source::Jwks(JwksSource(jwks)) = &mut self.0
            && let Some(jwks) = Arc::get_mut(jwks)
        {
            jwks.max_age_cap = cap;
        }
        self
    }

    /// The JWKS URL, if the keys come from one.
    pub fn url(&self) -> Option<&str> {
        match &self.0 {
            Source::Static(_) => None,
            Source::Jwks(source) => Some(&source.0.url),
        }
    }

    pub(crate) async fn find(&self, kid: Option<&str>) -> Result<Found, AuthError> {
        match &self.0 {
            // A token's kid picks among named keys; a single unnamed key verifies whatever kid says.
            Source::Static(keys) => keys
                .get(&kid.map(str::to_owned))
                .or_else(|| if keys.len() == 1 { keys.get(&None) } else { None })
                .cloned()
                .map(|key| Found { key, generation: 0 })
                .ok_or(AuthError::UnknownKey),
            Source::Jwks(source) => source.find(kid.ok_or(AuthError::UnknownKey)?).await,
        }
    }

    /// The generation of the key set in force (fetching it again first if it is stale).
    pub(crate) async fn generation(&self) -> Result<u64, AuthError> {
        match &self.0 {
            Source::Static(_) => Ok(0),
            Source::Jwks(source) => Ok(source.fresh_set().await?.generation),
        }
    }
}

impl JwksSource {
    async fn find(&self, kid: &str) -> Result<Found, AuthError> {
        let set = self.fresh_set().await?;
        if let Some(key) = set.keys.get(kid) {
            return Ok(Found {
                key: key.clone(),
                generation: set.generation,
            });
        }
        let may_fetch = set
            .last_attempt
            .is_none_or(|at| at.elapsed() >= self.0.unknown_kid_interval);
        if !may_fetch {
            return Err(AuthError::UnknownKey);
        }
        let set = self.refresh().await?;
        set.keys
            .get(kid)
            .map(|key| Found {
                key: key.clone(),
                generation: set.generation,
            })
            .ok_or(AuthError::UnknownKey)
    }

    /// The current set. Past its max-age it is fetched again in the background while requests go
    /// on with the set they have (a slow or absent issuer holds up no one); only before the first
    /// fetch does a request wait for one.
    async fn fresh_set(&self) -> Result<Arc<KeySet>, AuthError> {
        let set = self.0.current.read().expect("not poisoned").clone();
        if set.fetched.is_none() {
            return self.refresh().await;
        }
        let retry_due = set.last_attempt.is_none_or(|at| at.elapsed() >= MIN_MAX_AGE);
        if set.stale() && retry_due {
            let source = self.clone();
            tokio::spawn(async move {
                if let Err(err) = source.refresh().await {
                    tracing::warn!(%err, "the JWKS could not be fetched again; the keys fetched before stay");
                }
            });
        }
        Ok(set)
    }

    /// Fetches the set (joining a fetch already under way) and makes it current.
    async fn refresh(&self) -> Result<Arc<KeySet>, AuthError> {
        let jwks = &self.0;
        let (id, fetch) = {
            let mut in_flight = jwks.in_flight.lock().expect("not poisoned");
            in_flight
                .get_or_insert_with(|| {
                    let id = jwks.fetches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let fetch = fetch(jwks.client.clone(), jwks.url.clone(), jwks.max_age_cap);
                    (id, fetch.boxed().shared())
                })
                .clone()
        };
        let result = fetch.await;
        let mut current = jwks.current.write().expect("not poisoned");
        // The first to get here installs this fetch's result and clears its handle; the others
        // (and anyone whose fetch a later one replaced) find it done.
        let mut in_flight = jwks.in_flight.lock().expect("not poisoned");
        if in_flight.as_ref().is_some_and(|(running, _)| *running == id) {
            *in_flight = None;
            let previous = current.clone();
            let next = match &result {
                Ok(fetched) => KeySet {
                    generation: if same_keys(&previous.keys, &fetched.keys) {
                        previous.generation
                    } else {
                        previous.generation + 1
                    },
                    keys: fetched.keys.clone(),
                    fetched: Some((Instant::now(), fetched.max_age)),
                    last_attempt: Some(Instant::now()),
                },
                Err(_) => KeySet {
                    keys: previous.keys.clone(),
                    generation: previous.generation,
                    fetched: previous.fetched,
                    last_attempt: Some(Instant::now()),
                },
            };
            *current = Arc::new(next);
        }
        match result {
            Ok(_) => Ok(current.clone()),
            Err(reason) => Err(AuthError::KeysUnavailable(reason)),
        }
    }
}

fn same_keys(a: &HashMap<String, Arc<VerifyingKey>>, b: &HashMap<String, Arc<VerifyingKey>>) -> bool {
    a.len() == b.len() && a.keys().all(|kid| b.contains_key(kid))
}

async fn fetch(client: reqwest::Client, url: String, cap: Duration) -> Result<Fetched, String> {
    let unreachable = |reason: String| format!("{url}: {reason}");
    let mut response = client
        .get(&url)
        .send()
        .await
        .map_err(|err| unreachable(err.to_string()))?;
    if !response.status().is_success() {
        return Err(unreachable(format!("answered {}", response.status())));
    }
    let max_age = response
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|value| value.to_str().ok())
        .and_then(max_age)
        .map_or(DEFAULT_MAX_AGE, |age| age.clamp(MIN_MAX_AGE, MAX_MAX_AGE))
        .min(cap);
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
    let set: JwkSet =
        serde_json::from_slice(&body).map_err(|err| unreachable(format!("not a JWK set: {err}")))?;
    let keys = set
        .keys
        .iter()
        .filter_map(|jwk| Some((jwk.common.key_id.clone()?, Arc::new(verifying_key(jwk)?))))
        .collect();
    Ok(Fetched { keys, max_age })
}

/// `max-age` of a Cache-Control value (`no-store`/`no-cache` count as zero: fetch at the minimum).
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').map(str::trim).find_map(|directive| {
        if directive.eq_ignore_ascii_case("no-store") || directive.eq_ignore_ascii_case("no-cache") {
            return Some(Duration::ZERO);
        }
        let (name, value) = directive.split_once('=')?;
        name.trim().eq_ignore_ascii_case("max-age").then(|| {
            value
                .trim()
                .trim_matches('"')
                .parse()
                .ok()
                .map(Duration::from_secs)
        })?
    })
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
