//! What every service's integration tests stand on: real parts, fresh for each test. A database of
//! its own on a real PostgreSQL, a real Kafka-protocol broker with the platform's topics, the dev
//! identity's tokens, and the gateway in front, so tests speak HTTP as schools, trusts and MIS
//! systems do.
//!
//! - PostgreSQL: `DATABASE_URL`, else a private cluster this test process starts from the local
//!   server binaries and that ends with it.
//! - The broker: an embedded tansu of each test's own, else, when `KAFKA_BROKERS` is set (Apache
//!   Kafka in CI), a namespace of each test's own on that cluster: its own topics and groups.

mod app;
mod broker;
mod topic;

pub use app::TestApp;
pub use broker::TestBroker;
pub use topic::{distinct_ids, header, problem, read_topic};

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rdkafka::producer::FutureProducer;
use trustsafe_auth::dev::{AUDIENCE, DEV_ISSUER, DevIdentity};
use trustsafe_auth::{AuthConfig, Authenticator, Grants, SchoolRole, Scope, TrustRole};
use trustsafe_devstack::{PrivatePostgres, cluster_dir, ensure_database};
use trustsafe_events::KafkaRecord;
use trustsafe_eventstore::kafka::{self, SharedLog};
use trustsafe_gateway::{GatewayConfig, RunningGateway, Upstream};
use trustsafe_servicekit::{HostConfig, PseudonymKey, Tenancy};
use uuid::Uuid;

/// Partitions of every topic in tests.
pub const PARTITIONS: i32 = 3;

/// The PostgreSQL tests create their databases on: `DATABASE_URL`, else a private cluster of this
/// test process (started on first use; it shuts down when the process ends, however it ends).
pub fn admin_url() -> String {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return url;
    }
    static PRIVATE: OnceLock<PrivatePostgres> = OnceLock::new();
    PRIVATE
        .get_or_init(|| {
            let dir = private_cluster_dir().expect("a directory for the tests' PostgreSQL");
            let port = free_port().expect("a free port");
            PrivatePostgres::start(&dir, port).unwrap_or_else(|err| {
                panic!("DATABASE_URL is not set and a private PostgreSQL did not start: {err:#}")
            })
        })
        .url()
}

/// `TMPDIR/trustsafe-tests/<pid>`, after removing the directories of test processes that have ended.
fn private_cluster_dir() -> std::io::Result<std::path::PathBuf> {
    let root = std::env::temp_dir().join("trustsafe-tests");
    std::fs::create_dir_all(&root)?;
    for entry in std::fs::read_dir(&root)?.flatten() {
        let ended = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
            .is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
        if ended {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = root.join(std::process::id().to_string());
    let cluster = cluster_dir(&dir).map_err(std::io::Error::other)?;
    Ok(cluster)
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A new, empty database (`trustsafe_test_…`; CI drops leftovers), and its URL.
pub async fn fresh_database() -> String {
    let name = format!("trustsafe_test_{}", Uuid::now_v7().simple());
    ensure_database(&admin_url(), &name)
        .await
        .expect("a test database")
}

/// A broker for one test, with the platform's topics.
pub async fn broker() -> TestBroker {
    TestBroker::start().await
}

/// The dev identity, in a directory of its own: it signs tokens, and verifies them.
pub struct Identity {
    pub identity: DevIdentity,
    pub authenticator: Arc<Authenticator>,
    /// The deployment's pseudonym secret, new for each test.
    pub pseudonyms: Arc<PseudonymKey>,
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
            pseudonyms: Arc::new(PseudonymKey::generate()),
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

    /// A token for an integration of a school (the `mis` scope, the captive portal's).
    pub fn scope_token(&self, subject: &str, school: &str, scope: Scope) -> String {
        let mut grants = Grants::default();
        grants.scopes.insert(school.into(), [scope].into());
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
    pub fn host(&self, database_url: &str, broker: &TestBroker) -> HostConfig {
        HostConfig {
            database_url: database_url.to_owned(),
            log: broker.log().clone(),
            bind: "127.0.0.1:0".parse().expect("an address"),
            tenancy: Arc::new(Tenancy::example()),
            authenticator: self.authenticator.clone(),
            pseudonyms: self.pseudonyms.clone(),
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

/// Produces `records` to the contract's `topic` all at once, as a relay does: many to a request.
pub async fn produce(log: &SharedLog, topic: &str, records: &[KafkaRecord]) {
    let producer: FutureProducer = log.producer().create().expect("a producer");
    let topic = log.topic(topic);
    let deliveries: Vec<_> = records
        .iter()
        .map(|record| {
            producer
                .send_result(kafka::future_record(&topic, record))
                .map_err(|(err, _)| err)
                .expect("queued")
        })
        .collect();
    for delivery in deliveries {
        delivery.await.expect("delivered").expect("acknowledged");
    }
}
