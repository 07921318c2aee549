//! What every incident test stands on: a fresh database on the real PostgreSQL, a real broker
//! (embedded tansu, in memory) with the platform's topics, the incident service, and the gateway in
//! front of it. Tests speak HTTP to the gateway, as schools and MIS systems do.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::producer::FutureProducer;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use trustsafe_auth::dev::{AUDIENCE, DEV_ISSUER, DevIdentity};
use trustsafe_auth::{AuthConfig, Authenticator, Grants, SchoolRole, TrustRole};
use trustsafe_devstack::{BrokerStorage, EmbeddedBroker, ensure_database};
use trustsafe_events::{KafkaRecord, topics};
use trustsafe_eventstore::kafka;
use trustsafe_gateway::{GatewayConfig, RunningGateway, Upstream};
use trustsafe_servicekit::{HostConfig, RunningService, Tenancy};
use uuid::Uuid;

pub const PARTITIONS: i32 = 3;

pub struct TestApp {
    /// The gateway, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    pub pool: PgPool,
    pub broker: EmbeddedBroker,
    pub client: reqwest::Client,
    identity: DevIdentity,
    service: Option<RunningService>,
    gateway: Option<RunningGateway>,
    _keys: tempfile::TempDir,
}

fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let database = format!("trustsafe_test_{}", Uuid::now_v7().simple());
        let database_url = ensure_database(&admin_url(), &database)
            .await
            .expect("a test database");
        let broker = EmbeddedBroker::start(BrokerStorage::Memory, 0)
            .await
            .expect("embedded broker");
        kafka::ensure_topics(&broker.bootstrap_servers(), &topics::ALL, PARTITIONS, 1)
            .await
            .expect("topics");
        let keys = tempfile::tempdir().unwrap();
        let identity = DevIdentity::load_or_create(keys.path()).unwrap();
        let authenticator = Arc::new(
            Authenticator::new(AuthConfig {
                issuer: DEV_ISSUER.into(),
                audience: AUDIENCE.into(),
                keys: identity.key_source(),
                dev_mode: true,
            })
            .unwrap(),
        );
        let tenancy = Arc::new(Tenancy::example());
        let service = trustsafe_incident::start(&HostConfig {
            database_url: database_url.clone(),
            brokers: broker.bootstrap_servers(),
            bind: "127.0.0.1:0".parse().unwrap(),
            tenancy: tenancy.clone(),
            authenticator: authenticator.clone(),
        })
        .await
        .expect("the incident service starts");
        let mut config = GatewayConfig::new("127.0.0.1:0".parse().unwrap(), tenancy, authenticator);
        config.upstreams = vec![Upstream {
            name: "incident",
            base_url: format!("http://{}", service.address),
            school_resources: trustsafe_incident::SCHOOL_RESOURCES.to_vec(),
            trust_resources: Vec::new(),
        }];
        // The tests act fast; the rate limit has its own tests in the gateway.
        config.rate_per_second = 100_000;
        config.rate_burst = 100_000;
        let gateway = trustsafe_gateway::start(config)
            .await
            .expect("the gateway starts");
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect(&database_url)
            .await
            .unwrap();
        TestApp {
            base: format!("http://{}", gateway.address),
            pool,
            broker,
            client: reqwest::Client::new(),
            identity,
            service: Some(service),
            gateway: Some(gateway),
            _keys: keys,
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

    /// A token for `subject` holding `roles` at `school`.
    pub fn school_token(&self, subject: &str, school: &str, roles: &[SchoolRole]) -> String {
        let mut grants = Grants::default();
        grants
            .schools
            .insert(school.into(), roles.iter().copied().collect());
        self.identity
            .mint(subject, None, &grants, Duration::from_secs(3600))
    }

    pub fn trust_token(&self, subject: &str, trust: &str, role: TrustRole) -> String {
        let mut grants = Grants::default();
        grants.trusts.insert(trust.into(), [role].into());
        self.identity
            .mint(subject, None, &grants, Duration::from_secs(3600))
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
            .unwrap()
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Reports a concern at `school`, which must be accepted; its view.
    pub async fn report(&self, school: &str, token: &str, body: &Value) -> Value {
        let response = self
            .post(&format!("/api/v1/schools/{school}/incidents"), token, body)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
        response.json().await.unwrap()
    }

    /// A change to a concern, which must be accepted; its view.
    pub async fn act(&self, concern: &Value, action: &str, token: &str, body: &Value) -> Value {
        let path = format!(
            "/api/v1/schools/{}/incidents/{}/{action}",
            concern["school_id"].as_str().unwrap(),
            concern["id"].as_str().unwrap()
        );
        let response = self.post(&path, token, body).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{action}: {}",
            response.text().await.unwrap()
        );
        response.json().await.unwrap()
    }

    /// Everything the service has stored but its access audit, as one comparable text.
    pub async fn stored(&self) -> String {
        sqlx::query_scalar(
            "SELECT concat_ws(' | ',
                (SELECT string_agg(event_id::text || stream_version, ',' ORDER BY global_position)
                   FROM events WHERE stream_id NOT LIKE 'audit-%'),
                (SELECT string_agg(row_to_json(c)::text, ',' ORDER BY incident_id) FROM concerns c),
                (SELECT string_agg(row_to_json(w)::text, ',' ORDER BY school_id) FROM school_workflows w),
                (SELECT string_agg(key, ',' ORDER BY key) FROM idempotency_keys))",
        )
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// Waits until the relay has published everything appended so far.
    pub async fn published(&self) {
        for _ in 0..500 {
            let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
                .fetch_one(&self.pool)
                .await
                .unwrap();
            if pending == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the outbox did not drain within ten seconds");
    }

    /// Reads `topic` from the start until `count` distinct events (by `ce_id`) for which `wanted`
    /// holds have arrived; those records, duplicates included. (Not up to the high watermarks: tansu
    /// 0.6's in-memory engine can report a stale one.)
    pub async fn read(
        &self,
        topic: &str,
        count: usize,
        wanted: impl Fn(&KafkaRecord) -> bool,
    ) -> Vec<KafkaRecord> {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", self.broker.bootstrap_servers())
            .set("group.id", format!("reader-{}", Uuid::now_v7()))
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let mut assignment = TopicPartitionList::new();
        for partition in 0..PARTITIONS {
            assignment
                .add_partition_offset(topic, partition, Offset::Beginning)
                .unwrap();
        }
        consumer.assign(&assignment).unwrap();
        let mut records = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while distinct_ids(&records).len() < count {
            let message = tokio::time::timeout_at(deadline, consumer.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "only {} of {count} events on {topic}",
                        distinct_ids(&records).len()
                    )
                })
                .unwrap();
            let record = kafka::record_of(&message);
            if wanted(&record) {
                records.push(record);
            }
        }
        records
    }

    /// Produces records, as another service would.
    pub async fn produce(&self, topic: &str, records: &[KafkaRecord]) {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", self.broker.bootstrap_servers())
            .create()
            .unwrap();
        for record in records {
            producer
                .send(kafka::future_record(topic, record), Duration::from_secs(5))
                .await
                .unwrap();
        }
    }
}

pub fn header(record: &KafkaRecord, name: &str) -> String {
    String::from_utf8(record.header(name).unwrap_or_default().to_vec()).unwrap()
}

/// The distinct event ids among `records`.
pub fn distinct_ids(records: &[KafkaRecord]) -> HashSet<String> {
    records.iter().map(|record| header(record, "ce_id")).collect()
}

/// Asserts a problem+json answer of `status` and `kind`; its body.
pub async fn problem(response: Response, status: StatusCode, kind: &str) -> Value {
    assert_eq!(response.status(), status, "{:?}", response.headers());
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], format!("urn:trustsafe:problem:{kind}"), "{body}");
    body
}

/// The indecent-images report a member of staff at RAPS makes.
pub fn iioc_report() -> Value {
    json!({
        "category": "indecent_images_of_children",
        "summary": "Pupil found an indecent image on class laptop 14",
        "description": "During Year 5 computing, Sam (UPN A123) opened a folder on laptop 14 and called me over. I closed the lid and did not look further.",
        "occurred_at": chrono::Utc::now() - chrono::Duration::minutes(20),
        "location": "Year 5 classroom",
        "people": [{"person_ref": "UPN-A123", "kind": "pupil", "role": "witness"}],
        "device_involved": true,
        "immediate_risk": false
    })
}

pub fn cyberbullying_report(summary: &str) -> Value {
    json!({
        "category": "cyberbullying",
        "summary": summary,
        "description": "Messages in the class group chat calling a pupil names.",
        "occurred_at": chrono::Utc::now() - chrono::Duration::hours(3),
        "people": [{"person_ref": "UPN-B456", "kind": "pupil", "role": "victim"}]
    })
}
