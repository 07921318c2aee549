//! Reading what reached the log, and asserting what an endpoint answered: the checks every service's
//! tests make the same way.

use std::collections::HashSet;
use std::time::Duration;

use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use trustsafe_events::KafkaRecord;
use trustsafe_eventstore::kafka::{self, SharedLog};
use uuid::Uuid;

use crate::PARTITIONS;

/// Reads the contract's `topic` from the start until `count` distinct events (by `ce_id`) for which
/// `wanted` holds have arrived; those records, duplicates met on the way included. Fails after
/// `within`. (Not up to the high watermarks: tansu 0.6 can report a stale one.)
pub async fn read_topic(
    log: &SharedLog,
    topic: &str,
    count: usize,
    within: Duration,
    wanted: impl Fn(&KafkaRecord) -> bool,
) -> Vec<KafkaRecord> {
    let topic = &log.topic(topic);
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &log.brokers)
        .set("group.id", format!("reader-{}", Uuid::now_v7()))
        .set("enable.auto.commit", "false")
        .create()
        .expect("a consumer");
    let mut assignment = TopicPartitionList::new();
    for partition in 0..PARTITIONS {
        assignment
            .add_partition_offset(topic, partition, Offset::Beginning)
            .expect("a partition");
    }
    consumer.assign(&assignment).expect("the topic's partitions");
    let mut records = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while distinct_ids(&records).len() < count {
        let message = tokio::time::timeout_at(deadline, consumer.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "only {} of {count} events on {topic} within {within:?}",
                    distinct_ids(&records).len()
                )
            })
            .expect("a record");
        let record = kafka::record_of(&message);
        if wanted(&record) {
            records.push(record);
        }
    }
    records
}

/// A header of a record, as text.
pub fn header(record: &KafkaRecord, name: &str) -> String {
    String::from_utf8(record.header(name).unwrap_or_default().to_vec()).expect("a text header")
}

/// The distinct event ids among `records`.
pub fn distinct_ids(records: &[KafkaRecord]) -> HashSet<String> {
    records.iter().map(|record| header(record, "ce_id")).collect()
}

/// Asserts a problem+json answer of `status` and `kind`; its body.
pub async fn problem(response: Response, status: StatusCode, kind: &str) -> Value {
    assert_eq!(response.status(), status, "{:?}", response.headers());
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: Value = response.json().await.expect("a problem document");
    assert_eq!(body["type"], format!("urn:trustsafe:problem:{kind}"), "{body}");
    body
}
