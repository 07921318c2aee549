//! Kafka client settings shared by the relay, the consumers and the tools, and explicit topic creation.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::ClientContext;
use rdkafka::Message;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
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

/// Any client of the log. librdkafka waits up to 10 s between attempts to reach a broker that is away
/// (`reconnect.backoff.max.ms`): `bench outage` measured the dashboard fresh again 10.9 s after a
/// broker came back, nearly all of it that wait. One attempt a second costs nothing while it is away.
fn client_config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("reconnect.backoff.max.ms", "1000");
    if let Ok(contexts) = std::env::var("TRUSTSAFE_KAFKA_DEBUG") {
        config.set("debug", contexts);
    }
    config
}

/// The relay's producer: idempotent (no duplicates or reordering from its own retries), acks from
/// every in-sync replica, and a short linger so an event reaches the topic within milliseconds.
pub fn producer_config(brokers: &str) -> ClientConfig {
    let mut config = client_config(brokers);
    config
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
    let mut config = client_config(brokers);
    config
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

/// How the platform's topics are kept. The log is the history: records are kept for ever, and a
/// write the relay counts as done (`acks=all`) is on `min_insync` brokers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopicSettings {
    pub partitions: i32,
    /// Copies of each partition; `None`: three, or every broker on a smaller cluster.
    pub replication: Option<i32>,
}

impl TopicSettings {
    /// Replicas, and in-sync replicas a write needs, on a cluster of `brokers`: two copies before an
    /// acknowledgement wherever there are two brokers to hold them. While fewer are in sync the
    /// relay's writes wait in the outbox; nothing a school records waits on the broker.
    fn on(&self, brokers: usize) -> (i32, i32) {
        let replication = self.replication.unwrap_or((brokers as i32).clamp(1, 3));
        (replication, replication.min(2))
    }
}

/// Creates the topics that do not exist yet and checks the ones that do: an existing topic with
/// fewer replicas, a lower `min.insync.replicas` or a finite retention than the platform needs is
/// refused with the command's reason, since `acks=all` would not mean what the relay takes it to.
/// Never rely on auto-creation: a typo would silently make a new, empty topic.
pub async fn ensure_topics(log: &SharedLog, topics: &[&str], settings: TopicSettings) -> Result<(), String> {
    let brokers = log.brokers.as_str();
    let topics: Vec<String> = topics.iter().map(|topic| log.topic(topic)).collect();
    let admin: AdminClient<DefaultClientContext> = client_config(brokers)
        .create()
        .map_err(|err| format!("admin client: {err}"))?;
    let admin = std::sync::Arc::new(admin);
    // (name, replicas of its first partition) of every topic, and the cluster's size.
    let (existing, cluster): (Vec<(String, usize)>, usize) = {
        let admin = admin.clone();
        let metadata =
            tokio::task::spawn_blocking(move || admin.inner().fetch_metadata(None, Duration::from_secs(10)))
                .await
                .map_err(|err| err.to_string())?
                .map_err(|err| format!("metadata from {brokers}: {err}"))?;
        let existing = metadata
            .topics()
            .iter()
            .map(|topic| {
                let replicas = topic.partitions().first().map_or(0, |p| p.replicas().len());
                (topic.name().to_owned(), replicas)
            })
            .collect();
        (existing, metadata.brokers().len())
    };
    let (replication, min_insync) = settings.on(cluster);
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));

    let present: Vec<&String> = topics
        .iter()
        .filter(|topic| existing.iter().any(|(name, _)| name == *topic))
        .collect();
    for topic in &present {
        let replicas = existing
            .iter()
            .find(|(name, _)| name == *topic)
            .map_or(0, |(_, r)| *r);
        if (replicas as i32) < replication {
            return Err(format!(
                "topic {topic} has {replicas} replica(s); the platform needs {replication} \
                 (reassign its partitions, or set TRUSTSAFE_TOPIC_REPLICATION)"
            ));
        }
    }
    if !present.is_empty() {
        let specifiers: Vec<ResourceSpecifier> = present
            .iter()
            .map(|topic| ResourceSpecifier::Topic(topic))
            .collect();
        let described = admin
            .describe_configs(&specifiers, &options)
            .await
            .map_err(|err| format!("describe topics on {brokers}: {err}"))?;
        for (topic, resource) in present.iter().zip(described) {
            let resource = resource.map_err(|code| format!("describe topic {topic}: {code}"))?;
            let value = |name: &str| resource.get(name).and_then(|entry| entry.value.clone());
            // A broker that lists only what was set at creation (tansu) leaves the key out: one.
            let kept_insync = value("min.insync.replicas")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            if kept_insync < min_insync {
                return Err(format!(
                    "topic {topic} has min.insync.replicas={kept_insync}; acks=all needs {min_insync} \
                     (kafka-configs --alter --entity-type topics --entity-name {topic} \
                     --add-config min.insync.replicas={min_insync})"
                ));
            }
            if let Some(retention) = value("retention.ms").filter(|ms| ms != "-1") {
                return Err(format!(
                    "topic {topic} deletes records after retention.ms={retention}; the log is the \
                     history and must keep them (retention.ms=-1)"
                ));
            }
        }
    }

    let missing: Vec<&String> = topics.iter().filter(|topic| !present.contains(topic)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let min_insync = min_insync.to_string();
    let new_topics: Vec<NewTopic> = missing
        .iter()
        .map(|topic| {
            NewTopic::new(topic, settings.partitions, TopicReplication::Fixed(replication))
                .set("retention.ms", "-1")
                .set("retention.bytes", "-1")
                .set("min.insync.replicas", &min_insync)
        })
        .collect();
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

/// A Kafka client that is closed off the async runtime however its owner ends. Closing a consumer
/// leaves its group, a blocking round trip to the broker: on a runtime thread it stalls the runtime,
/// and in a task dropped while the runtime shuts down, with the embedded broker served by that same
/// runtime, it waits for an answer that never comes (a failed test hung so). [`OffRuntime::close`]
/// closes on the blocking pool and waits; dropped otherwise, it closes on a thread of its own.
pub struct OffRuntime<T: Send + 'static>(Option<T>);

impl<T: Send + 'static> OffRuntime<T> {
    pub fn new(client: T) -> Self {
        Self(Some(client))
    }

    /// Closes the client on the blocking pool and waits for it.
    pub async fn close(mut self) {
        if let Some(client) = self.0.take() {
            let _ = tokio::task::spawn_blocking(move || drop(client)).await;
        }
    }
}

impl<T: Send + 'static> std::ops::Deref for OffRuntime<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0.as_ref().expect("a client is there until it is closed")
    }
}

impl<T: Send + 'static> Drop for OffRuntime<T> {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            std::thread::spawn(move || drop(client));
        }
    }
}
