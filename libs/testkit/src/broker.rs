//! The broker under one test: an embedded tansu of its own, or its own namespace on the Apache Kafka
//! that `KAFKA_BROKERS` names. A test that takes the broker away gets a broker of its own either way.

use std::path::PathBuf;
use std::process::Command;

use trustsafe_devstack::{BrokerStorage, EmbeddedBroker};
use trustsafe_events::topics;
use trustsafe_eventstore::kafka::{self, SharedLog};
use uuid::Uuid;

use crate::PARTITIONS;

pub struct TestBroker {
    log: SharedLog,
    kind: Kind,
}

enum Kind {
    Embedded(Box<EmbeddedBroker>),
    /// A namespace on a cluster this test shares with others.
    Shared,
    /// A single Apache Kafka node of this test's own (`scripts/kafka.sh`), in this directory.
    OwnKafka(tempfile::TempDir),
}

impl TestBroker {
    /// A broker with the platform's topics, nobody else's records and no other test's groups.
    pub async fn start() -> TestBroker {
        match std::env::var("KAFKA_BROKERS") {
            Ok(brokers) => {
                let namespace = format!("test-{}.", Uuid::now_v7().simple());
                let log = SharedLog::new(brokers)
                    .with_namespace(namespace)
                    .expect("a valid namespace");
                Self::with_topics(log, Kind::Shared).await
            }
            Err(_) => Self::embedded().await,
        }
    }

    /// A broker this test alone uses, so it can [`stop`](Self::stop) and [`resume`](Self::resume)
    /// it: embedded, or, when `KAFKA_BROKERS` is set, an Apache Kafka node of its own.
    pub async fn own() -> TestBroker {
        if std::env::var_os("KAFKA_BROKERS").is_none() {
            return Self::embedded().await;
        }
        let dir = tempfile::tempdir().expect("a directory for Kafka");
        let port = kafka_ports();
        kafka_script(&["start", &dir.path().to_string_lossy()], port);
        let log = SharedLog::new(format!("127.0.0.1:{port}"));
        Self::with_topics(log, Kind::OwnKafka(dir)).await
    }

    async fn embedded() -> TestBroker {
        let broker = EmbeddedBroker::start(BrokerStorage::Memory, 0)
            .await
            .expect("embedded broker");
        let log = SharedLog::new(broker.bootstrap_servers());
        Self::with_topics(log, Kind::Embedded(Box::new(broker))).await
    }

    async fn with_topics(log: SharedLog, kind: Kind) -> TestBroker {
        kafka::ensure_topics(
            &log,
            &topics::ALL,
            kafka::TopicSettings {
                partitions: PARTITIONS,
                replication: None,
            },
        )
        .await
        .expect("topics");
        TestBroker { log, kind }
    }

    pub fn log(&self) -> &SharedLog {
        &self.log
    }

    /// The broker's name of the contract's topic `name`.
    pub fn topic(&self, name: &str) -> String {
        self.log.topic(name)
    }

    /// Takes the broker away: its port refuses connections until [`resume`](Self::resume).
    pub async fn stop(&mut self) {
        match &mut self.kind {
            Kind::Embedded(broker) => broker.stop().await,
            Kind::OwnKafka(dir) => kafka_script(&["stop", &dir.path().to_string_lossy()], 0),
            Kind::Shared => panic!("a shared broker cannot be stopped: use TestBroker::own"),
        }
    }

    /// Serves again, with everything it held.
    pub async fn resume(&mut self) {
        let port = self.port();
        match &mut self.kind {
            Kind::Embedded(broker) => broker.resume().await.expect("the broker resumes"),
            Kind::OwnKafka(dir) => kafka_script(&["start", &dir.path().to_string_lossy()], port),
            Kind::Shared => panic!("a shared broker cannot be stopped: use TestBroker::own"),
        }
    }

    fn port(&self) -> u16 {
        self.log
            .brokers
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        if let Kind::OwnKafka(dir) = &self.kind {
            kafka_script(&["stop", &dir.path().to_string_lossy()], 0);
        }
    }
}

/// A free pair of ports (the broker's, and the controller's after it) below Linux's ephemeral range
/// (32768 on): the node is stopped and started again on them, and a port from that range could be
/// taken meanwhile by any client's outgoing connection.
fn kafka_ports() -> u16 {
    let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    let start = 24000 + (std::process::id() % 2000) as u16 * 4;
    (start..32000)
        .chain(24000..start)
        .step_by(2)
        .find(|&port| free(port) && free(port + 1))
        .expect("two free ports below 32000")
}

/// Runs `scripts/kafka.sh` of this checkout, found above the test's package directory.
fn kafka_script(args: &[&str], port: u16) {
    let script = script_path();
    let output = Command::new("bash")
        .arg(&script)
        .args(args)
        .env("TRUSTSAFE_KAFKA_PORT", port.to_string())
        .output()
        .unwrap_or_else(|err| panic!("running {}: {err}", script.display()));
    assert!(
        output.status.success(),
        "{} {args:?} failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn script_path() -> PathBuf {
    // Read at run time: cargo sets it to the package under test, in whichever clone runs.
    let package = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    package
        .ancestors()
        .map(|dir| dir.join("scripts/kafka.sh"))
        .find(|script| script.is_file())
        .expect("scripts/kafka.sh above the package directory")
}
