//! Kafka client settings shared by the relay, the consumers and the tools, and explicit topic creation.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::ClientContext;
use rdkafka::Message;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use rdkafka::types::RDKafkaErrorCode;
use trustsafe_events::KafkaRecord;

/// Where the shared log lives: the brokers, and the namespace its topics and consumer groups carry.
///
/// The code names topics and groups as the contract does (`trustsafe.incident.v1`, `reporting`); a
/// namespace prefixes both on the broker, so several platforms (staging beside production, or test
/// runs side by side) can share one Kafka cluster without reading each other's records or joining
/// each other's groups. An ordinary deployment has none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SharedLog {
    /// `bootstrap.servers`.
    pub brokers: String,
    namespace: String,
}

impl SharedLog {
    pub fn new(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            namespace: String::new(),
        }
    }

    /// The same brokers under `namespace` (letters, digits, `.`, `_` and `-`, as Kafka's names allow).
    pub fn with_namespace(self, namespace: impl Into<String>) -> Result<Self, String> {
        let namespace = namespace.into();
        let valid = namespace.len() <= 100
            && namespace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            return Err(format!(
                "a log namespace takes at most 100 letters, digits, '.', '_' or '-', not {namespace:?}"
            ));
        }
        Ok(Self { namespace, ..self })
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The name of the contract's topic `name` on the broker.
    pub fn topic(&self, name: &str) -> String {
        format!("{}{name}", self.namespace)
    }

    /// The name of consumer group `name` on the broker.
    pub fn group(&self, name: &str) -> String {
        format!("{}{name}", self.namespace)
    }

    /// The contract's name of a topic as the broker names it.
    pub fn contract_topic<'a>(&self, topic: &'a str) -> &'a str {
        topic.strip_prefix(self.namespace.as_str()).unwrap_or(topic)
    }

    /// The relay's producer (see [`producer_config`]).
    pub fn producer(&self) -> ClientConfig {
        producer_config(&self.brokers)
    }

    /// A consumer in the group `name` (see [`consumer_config`]).
    pub fn consumer(&self, name: &str) -> ClientConfig {
        consumer_config(&self.brokers, &self.group(name))
    }
}

/// The relay's producer: idempotent (no duplicates or reordering from its own retries), acks from
/// every in-sync replica, and a short linger so an event reaches the topic within milliseconds.
pub fn producer_config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "2")
        .set("message.timeout.ms", "30000")
        .set("queue.buffering.max.messages", "200000")
        .set("compression.type", "none");
    config
}

/// A consumer in `group` that stores offsets only when told to (after the database commit).
pub fn consumer_config(brokers: &str, group: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "10000")
        .set("fetch.wait.max.ms", "50");
    config
}

/// The context of a consumer that reads its partitions to the end (`enable.partition.eof`): reaching
/// the end is how it knows it is done, not an error to log, as librdkafka's default context would.
pub struct ReadToEnd;

impl ClientContext for ReadToEnd {
    fn error(&self, error: KafkaError, reason: &str) {
        let end_of_partition = matches!(
            error,
            KafkaError::PartitionEOF(_) | KafkaError::Global(RDKafkaErrorCode::PartitionEOF)
        );
        if !end_of_partition {
            tracing::error!(%error, reason, "kafka client error");
        }
    }
}

impl ConsumerContext for ReadToEnd {}

/// Creates the topics that do not exist yet, with unlimited retention: the log is the history.
/// Never rely on auto-creation: a typo would silently make a new, empty topic.
pub async fn ensure_topics(
    log: &SharedLog,
    topics: &[&str],
    partitions: i32,
    replication: i32,
) -> Result<(), String> {
    let brokers = log.brokers.as_str();
    let topics: Vec<String> = topics.iter().map(|topic| log.topic(topic)).collect();
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .map_err(|err| format!("admin client: {err}"))?;
    // Only ask for the missing ones: brokers log an error for every "already exists".
    let admin = std::sync::Arc::new(admin);
    let existing: Vec<String> = {
        let admin = admin.clone();
        tokio::task::spawn_blocking(move || admin.inner().fetch_metadata(None, Duration::from_secs(10)))
            .await
            .map_err(|err| err.to_string())?
            .map_err(|err| format!("metadata from {brokers}: {err}"))?
            .topics()
            .iter()
            .map(|topic| topic.name().to_owned())
            .collect()
    };
    let missing: Vec<&String> = topics
        .iter()
        .filter(|topic| !existing.iter().any(|t| t == *topic))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let new_topics: Vec<NewTopic> = missing
        .iter()
        .map(|topic| {
            NewTopic::new(topic, partitions, TopicReplication::Fixed(replication))
                .set("retention.ms", "-1")
                .set("retention.bytes", "-1")
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .map_err(|err| format!("create topics on {brokers}: {err}"))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(format!("create topic {topic}: {code}")),
        }
    }
    Ok(())
}

/// A record ready for the producer: key, headers and value borrowed from `record`.
pub fn future_record<'a>(topic: &'a str, record: &'a KafkaRecord) -> FutureRecord<'a, str, [u8]> {
    let headers = record
        .headers
        .iter()
        .fold(OwnedHeaders::new(), |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: Some(value),
            })
        });
    FutureRecord::to(topic)
        .key(record.key.as_str())
        .payload(record.value.as_slice())
        .headers(headers)
}

/// A consumed message as the contract's record type (what `trustsafe_events::from_kafka` reads).
pub fn record_of(message: &impl Message) -> KafkaRecord {
    let headers = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|header| {
                    (
                        header.key.to_owned(),
                        header.value.map(<[u8]>::to_vec).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    KafkaRecord {
        key: message
            .key()
            .map(|key| String::from_utf8_lossy(key).into_owned())
            .unwrap_or_default(),
        headers,
        value: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
    }
}
