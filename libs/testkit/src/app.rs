//! The one test app: a service from its declaration, on a fresh database and a broker of its own,
//! with the gateway in front, spoken to over HTTP as schools, trusts and MIS systems do. A service's
//! tests wrap it (`Deref`) to add helpers of their own domain.

use reqwest::Response;
use serde_json::Value;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use trustsafe_auth::{SchoolRole, TrustRole};
use trustsafe_gateway::{RunningGateway, Upstream};
use trustsafe_servicekit::{RunningService, Service};

use crate::{Identity, TestBroker};

pub struct TestApp {
    /// The gateway, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    /// The service's own database.
    pub pool: PgPool,
    pub database_url: String,
    pub broker: TestBroker,
    pub client: reqwest::Client,
    pub identity: Identity,
    service: Option<RunningService>,
    gateway: Option<RunningGateway>,
}

impl TestApp {
    pub async fn spawn(service: &'static Service) -> TestApp {
        let database_url = crate::fresh_database().await;
        let broker = crate::broker().await;
        let identity = Identity::new();
        let running = (service.start)(&identity.host(&database_url, &broker))
            .await
            .unwrap_or_else(|err| panic!("the {} service starts: {err:#}", service.name));
        let gateway = crate::gateway(
            &identity,
            Upstream::of(service, format!("http://{}", running.address)),
        )
        .await;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect(&database_url)
            .await
            .expect("the service's database");
        TestApp {
            base: format!("http://{}", gateway.address),
            pool,
            database_url,
            broker,
            client: reqwest::Client::new(),
            identity,
            service: Some(running),
            gateway: Some(gateway),
        }
    }

    pub async fn stop(mut self) {
        if let Some(gateway) = self.gateway.take() {
            gateway.stop().await;
        }
        if let Some(service) = self.service.take() {
            service.stop().await;
        }
    }

    pub fn school_token(&self, subject: &str, school: &str, roles: &[SchoolRole]) -> String {
        self.identity.school_token(subject, school, roles)
    }

    pub fn trust_token(&self, subject: &str, trust: &str, role: TrustRole) -> String {
        self.identity.trust_token(subject, trust, role)
    }

    /// A token for the school's MIS (the `mis` scope).
    pub fn mis_token(&self, subject: &str, school: &str) -> String {
        self.identity
            .scope_token(subject, school, trustsafe_auth::Scope::Mis)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("the gateway answers")
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("the gateway answers")
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("the gateway answers")
    }

    /// Waits until the service's `consumer` has handled `events` distinct events (applied, or parked).
    pub async fn consumed(&self, consumer: &str, events: i64) {
        for _ in 0..300 {
            let done: i64 = sqlx::query_scalar(
                "SELECT (SELECT count(*) FROM processed_events WHERE consumer = $1)
                      + (SELECT count(*) FROM dead_letters WHERE consumer = $1)",
            )
            .bind(consumer)
            .fetch_one(&self.pool)
            .await
            .expect("the service's database answers");
            if done >= events {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{consumer} did not handle {events} events within 30 s");
    }

    /// A GET that must answer 200; its JSON.
    pub async fn json(&self, path: &str, token: &str) -> Value {
        let response = self.get(path, token).await;
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.expect("a JSON body")
    }
}
