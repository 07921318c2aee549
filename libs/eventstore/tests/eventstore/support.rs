//! What every event-store test stands on: a fresh database on a real PostgreSQL, a real broker with
//! the platform's topics (both from the test kit), and helpers to read topics back.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use rdkafka::ClientConfig;
use rdkafka::producer::FutureProducer;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use trustsafe_events::{Actor, KafkaRecord, audit::RecordRead};
use trustsafe_eventstore::kafka::SharedLog;
use trustsafe_eventstore::{AppendContext, EventStore, NewEvent, kafka};
use trustsafe_testkit::TestBroker;
use uuid::Uuid;

pub struct TestEnv {
    pub pool: PgPool,
    pub store: EventStore,
    pub broker: TestBroker,
}

impl TestEnv {
    pub async fn start() -> TestEnv {
        Self::on(TestBroker::start().await).await
    }

    /// With a broker of this test's own, which it may stop and resume.
    pub async fn with_own_broker() -> TestEnv {
        Self::on(TestBroker::own().await).await
    }

    async fn on(broker: TestBroker) -> TestEnv {
        let url = trustsafe_testkit::fresh_database().await;
        let pool = PgPoolOptions::new()
            .max_connections(60)
            .connect(&url)
            .await
            .expect("connect");
        let store = EventStore::new(pool.clone(), "/trustsafe/test");
        store.migrate().await.expect("migrations");
        TestEnv { pool, store, broker }
    }

    pub fn log(&self) -> &SharedLog {
        self.broker.log()
    }

    pub async fn outbox_len(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Waits until the relay has emptied the outbox.
    pub async fn outbox_drained(&self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while self.outbox_len().await > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "outbox not drained within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub fn context(school: &str) -> AppendContext {
    AppendContext {
        trust_id: "viking".into(),
        school_id: Some(school.into()),
        actor: Actor::person("dsl-raps", "dsl"),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
    }
}

/// A real audit event: the consumer kit only applies types the catalog knows.
pub fn record_read(n: usize) -> NewEvent {
    let event = RecordRead {
        record_kind: "incident".into(),
        record_id: format!("case-{n}"),
        school_id: "raps".into(),
        reader: "dsl-raps".into(),
        role: "dsl".into(),
        read_at: Utc::now(),
    };
    NewEvent::new(&event, Utc::now())
}

pub use trustsafe_testkit::{header, read_topic};

/// Checks that each stream's versions arrive as 1, 2, 3, … once duplicates are set aside.
pub fn assert_stream_order(records: &[KafkaRecord]) {
    let mut seen = HashSet::new();
    let mut last: std::collections::HashMap<String, i64> = Default::default();
    for record in records {
        if !seen.insert(header(record, "ce_id")) {
            continue;
        }
        let version: i64 = header(record, "ce_streamversion").parse().unwrap();
        let previous = last.insert(record.key.clone(), version).unwrap_or(0);
        assert_eq!(version, previous + 1, "stream {} out of order", record.key);
    }
}

/// Produces raw records one at a time to the contract's `topic`, as another producer (or a buggy
/// one) would.
pub async fn produce(log: &SharedLog, topic: &str, records: &[KafkaRecord]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &log.brokers)
        .create()
        .unwrap();
    let topic = log.topic(topic);
    for record in records {
        producer
            .send(kafka::future_record(&topic, record), Duration::from_secs(5))
            .await
            .unwrap();
    }
}

/// Every record on `topic`, read until none has come for `quiet` (duplicates included).
pub async fn read_for(log: &SharedLog, topic: &str, quiet: Duration) -> Vec<KafkaRecord> {
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use rdkafka::{Offset, TopicPartitionList};
    let topic = log.topic(topic);
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &log.brokers)
        .set("group.id", format!("reader-{}", Uuid::now_v7()))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    for partition in 0..trustsafe_testkit::PARTITIONS {
        assignment
            .add_partition_offset(&topic, partition, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&assignment).unwrap();
    let mut records = Vec::new();
    while let Ok(message) = tokio::time::timeout(quiet, consumer.recv()).await {
        records.push(kafka::record_of(&message.unwrap()));
    }
    records
}
