use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;
use trustsafe_auth::dev::{AUDIENCE, DEV_ISSUER, DevIdentity};
use trustsafe_auth::{AuthConfig, Authenticator, Grants, SchoolRole, TrustRole};
use trustsafe_gateway::{GatewayConfig, RunningGateway, Upstream};
use trustsafe_servicekit::Tenancy;

pub struct Setup {
    pub identity: DevIdentity,
    pub authenticator: Arc<Authenticator>,
    _dir: tempfile::TempDir,
}

impl Setup {
    pub fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let identity = DevIdentity::load_or_create(dir.path()).unwrap();
        let authenticator = Arc::new(
            Authenticator::new(AuthConfig {
                issuer: DEV_ISSUER.into(),
                audience: AUDIENCE.into(),
                keys: identity.key_source(),
                dev_mode: true,
            })
            .unwrap(),
        );
        Setup {
            identity,
            authenticator,
            _dir: dir,
        }
    }

    pub fn school_token(&self, school: &str, role: SchoolRole) -> String {
        let mut grants = Grants::default();
        grants.schools.insert(school.into(), [role].into());
        self.identity.mint(
            &format!("{school}-{role:?}"),
            None,
            &grants,
            Duration::from_secs(600),
        )
    }

    pub fn trust_token(&self, trust: &str) -> String {
        let mut grants = Grants::default();
        grants
            .trusts
            .insert(trust.into(), [TrustRole::TrustSafeguardingLead].into());
        self.identity
            .mint(&format!("{trust}-lead"), None, &grants, Duration::from_secs(600))
    }

    pub fn config(&self, upstream_url: &str) -> GatewayConfig {
        let mut config = GatewayConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(Tenancy::example()),
            self.authenticator.clone(),
        );
        config.upstreams = vec![Upstream {
            name: "incident",
            base_url: upstream_url.into(),
            school_resources: ["incidents", "workflow"].map(String::from).into(),
            trust_resources: ["dashboard"].map(String::from).into(),
            body_limit: 1024 * 1024,
        }];
        config.body_limit = 1024;
        config.upstream_timeout = Duration::from_millis(800);
        config
    }
}

pub async fn gateway(config: GatewayConfig) -> (RunningGateway, String) {
    let running = trustsafe_gateway::start(config).await.unwrap();
    let base = format!("http://{}", running.address);
    (running, base)
}

/// An upstream that echoes what reached it; a path containing `slow` answers after two seconds.
async fn echo(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if req.path().contains("slow") {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    HttpResponse::Ok()
        .insert_header(("ETag", "\"3\""))
        .insert_header(("X-Internal", "secret"))
        .json(json!({
            "method": req.method().as_str(),
            "path": req.path(),
            "query": req.query_string(),
            "authorization": header("authorization").is_some(),
            "request_id": header("x-request-id"),
            "idempotency_key": header("idempotency-key"),
            "cookie": header("cookie"),
            "body_bytes": body.len(),
        }))
}

pub fn upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(|| {
        App::new()
            .app_data(web::PayloadConfig::new(10 * 1024 * 1024))
            .route("/readyz", web::get().to(|| async { HttpResponse::Ok().finish() }))
            .default_service(web::route().to(echo))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    base
}

/// An address nothing listens on.
pub fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}
