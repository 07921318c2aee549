use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpResponse, HttpServer, get, web};
use serde_json::{Value, json};
use trustsafe_auth::{AuthConfig, Authenticator, Caller, KeySource};

pub const ISSUER: &str = "https://id.viking.example";
pub const AUDIENCE: &str = "trustsafe";
pub const KID: &str = "test-rsa-1";
pub const RSA_PRIVATE: &[u8] = include_bytes!("keys/rsa-private.pem");
pub const RSA_PUBLIC: &[u8] = include_bytes!("keys/rsa-public.pem");
pub const ATTACKER_PRIVATE: &[u8] = include_bytes!("keys/attacker-rsa-private.pem");
const JWKS: &str = include_str!("keys/jwks.json");

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Claims of a valid token; tests change one thing at a time.
pub fn claims() -> Value {
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "dsl-raps", "name": "Nick Budge",
        "iat": now(), "nbf": now() - 5, "exp": now() + 600,
        "trustsafe": {"schools": {"raps": ["dsl"]}, "trusts": {}}
    })
}

pub fn rsa_token(claims: &Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(KID.into());
    sign(&header, claims, RSA_PRIVATE)
}

pub fn sign(header: &jsonwebtoken::Header, claims: &Value, rsa_pem: &[u8]) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(rsa_pem).unwrap();
    jsonwebtoken::encode(header, claims, &key).unwrap()
}

/// An HTTP server that serves a JWK set and counts the requests it gets; the test may change the
/// set, the Cache-Control it is served with, and how slowly it answers.
pub struct KeyServer {
    pub url: String,
    pub hits: Arc<AtomicUsize>,
    served: Arc<Mutex<Served>>,
}

#[derive(Clone)]
struct Served {
    jwks: String,
    cache_control: Option<String>,
    delay: Duration,
}

impl KeyServer {
    pub fn start() -> KeyServer {
        let hits = Arc::new(AtomicUsize::new(0));
        let served = Arc::new(Mutex::new(Served {
            jwks: JWKS.into(),
            cache_control: None,
            delay: Duration::ZERO,
        }));
        let (counter, answer) = (hits.clone(), served.clone());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let server = HttpServer::new(move || {
            let (counter, answer) = (counter.clone(), answer.clone());
            App::new().route(
                "/jwks.json",
                web::get().to(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let served = answer.lock().unwrap().clone();
                    async move {
                        tokio::time::sleep(served.delay).await;
                        let mut response = HttpResponse::Ok();
                        response.content_type("application/json");
                        if let Some(cache_control) = served.cache_control {
                            response.insert_header(("cache-control", cache_control));
                        }
                        response.body(served.jwks)
                    }
                }),
            )
        })
        .workers(2)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        KeyServer { url, hits, served }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Serves an empty set from now on: the issuer removed its key.
    pub fn remove_keys(&self) {
        self.served.lock().unwrap().jwks = r#"{"keys": []}"#.into();
    }

    pub fn set_cache_control(&self, value: &str) {
        self.served.lock().unwrap().cache_control = Some(value.into());
    }

    pub fn set_delay(&self, delay: Duration) {
        self.served.lock().unwrap().delay = delay;
    }
}

#[get("/whoami")]
async fn whoami(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(json!({"subject": caller.subject, "dsl_at_raps": caller.has_school_role("raps", trustsafe_auth::SchoolRole::Dsl)}))
}

/// A protected service trusting `keys`; returns its base URL.
pub fn protected_service(keys: KeySource) -> String {
    let authenticator = web::Data::new(
        Authenticator::new(AuthConfig {
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            keys,
            // The test key server speaks plain HTTP on loopback, which only dev mode accepts.
            dev_mode: true,
        })
        .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || App::new().app_data(authenticator.clone()).service(whoami))
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
    tokio::spawn(server);
    base
}

/// Calls `/whoami` with `token` (if any): status and body.
pub async fn call(base: &str, token: Option<&str>) -> (u16, Value, Option<String>, Option<String>) {
    let mut request = reqwest::Client::new().get(format!("{base}/whoami"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (content_type, challenge) = (header("content-type"), header("www-authenticate"));
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, content_type, challenge)
}
