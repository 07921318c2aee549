//! What every service's integration tests stand on: real parts, fresh for each test. A database of
//! its own on the real PostgreSQL, a real Kafka-protocol broker (embedded tansu, in memory) with the
//! platform's topics, the dev identity's tokens, and the gateway in front, so tests speak HTTP as
//! schools, trusts and MIS systems do.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::producer::FutureProducer;
use trustsafe_auth::dev::{AUDIENCE, DEV_ISSUER, DevIdentity};
use trustsafe_auth::{AuthConfig, Authenticator, Grants, SchoolRole, TrustRole};
use trustsafe_devstack::{BrokerStorage, EmbeddedBroker, ensure_database};
use trustsafe_events::{KafkaRecord, topics};
use trustsafe_eventstore::kafka;
use trustsafe_gateway::{GatewayConfig, RunningGateway, Upstream};
use trustsafe_servicekit::{HostConfig, Tenancy};
use uuid::Uuid;

/// Partitions of every topic in tests.
pub const PARTITIONS: i32 = 3;

/// The PostgreSQL tests create their databases on: `DATABASE_URL`, else the local one.
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new, empty database (`trustsafe_test_…`; CI drops leftovers), and its URL.
pub async fn fresh_database() -> String {
    let name = format!("trustsafe_test_{}", Uuid::now_v7().simple());
    ensure_database(&admin_url(), &name)
        .await
        .expect("a test database")
}

/// A broker of its own, with the platform's topics.
pub async fn broker() -> EmbeddedBroker {
    let broker = EmbeddedBroker::start(BrokerStorage::Memory, 0)
        .await
        .expect("embedded broker");
    kafka::ensure_topics(&broker.bootstrap_servers(), &topics::ALL, PARTITIONS, 1)
        .await
        .expect("topics");
    broker
}

/// The dev identity, in a directory of its own: it signs tokens, and verifies them.
pub struct Identity {
    pub identity: DevIdentity,
    pub authenticator: Arc<Authenticator>,
    _keys: tempfile::TempDir,
}

impl Identity {
    pub fn new() -> Identity {
        let keys = tempfile::tempdir().expect("a temporary directory");
        let identity = DevIdentity::load_or_create(keys.path()).expect("a dev key");
        let authenticator = Authenticator::new(AuthConfig {
            issuer: DEV_ISSUER.into(),
            audience: AUDIENCE.into(),
            keys: identity.key_source(),
            dev_mode: true,
        })
        .expect("the dev issuer in dev mode");
        Identity {
            identity,
            authenticator: Arc::new(authenticator),
            _keys: keys,
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

    /// How a service under test is configured: its database, the broker, any free port, the example
    /// tenancy and this identity.
    pub fn host(&self, database_url: &str, broker: &EmbeddedBroker) -> HostConfig {
        HostConfig {
            database_url: database_url.to_owned(),
            brokers: broker.bootstrap_servers(),
            bind: "127.0.0.1:0".parse().expect("an address"),
            tenancy: Arc::new(Tenancy::example()),
            authenticator: self.authenticator.clone(),
        }
    }
}

impl Default for Identity {
    fn default() -> Self {
        Self::new()
    }
}

/// The gateway in front of `upstream`, its rate limit lifted (the gateway's own tests cover it).
pub async fn gateway(identity: &Identity, upstream: Upstream) -> RunningGateway {
    let mut config = GatewayConfig::new(
        "127.0.0.1:0".parse().expect("an address"),
        Arc::new(Tenancy::example()),
        identity.authenticator.clone(),
    );
    config.upstreams = vec![upstream];
    config.rate_per_second = 100_000;
    config.rate_burst = 100_000;
    trustsafe_gateway::start(config)
        .await
        .expect("the gateway starts")
}

/// Produces `records` to `topic` all at once, as a relay does: many to a request.
pub async fn produce(brokers: &str, topic: &str, records: &[KafkaRecord]) {
    let producer: FutureProducer = kafka::producer_config(brokers).create().expect("a producer");
    let deliveries: Vec<_> = records
        .iter()
        .map(|record| {
            producer
                .send_result(kafka::future_record(topic, record))
                .map_err(|(err, _)| err)
                .expect("queued")
        })
        .collect();
    for delivery in deliveries {
        delivery.await.expect("delivered").expect("acknowledged");
    }
}
