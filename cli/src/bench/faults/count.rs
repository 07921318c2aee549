//! What the crash matrix counts once the platform has settled: each acknowledged answer looked for
//! in the incident store, on the topic and in reporting's read model; effects had twice; streams out
//! of order on the topic; streams the read model has not caught up with.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anyhow::Result;
use rdkafka::error::KafkaError;
use sqlx::{Connection, PgConnection};
use trustsafe_events::incident::{IncidentAcknowledged, IncidentReported};
use trustsafe_events::{Event, from_kafka};
use trustsafe_eventstore::kafka::{SharedLog, record_of};
use trustsafe_reporting::ReadModel;
use uuid::Uuid;

/// The incident service's store.
pub(super) struct Store {
    /// Each concern's stream version.
    pub versions: HashMap<Uuid, i64>,
    /// Concerns beyond one per report (a report's key answered with a second concern).
    pub extra_concerns: i64,
    /// Concerns acknowledged more than once.
    pub acknowledged_twice: i64,
    /// Events not yet published.
    pub outbox: i64,
}

pub(super) async fn store(database_url: &str) -> Result<Store> {
    let mut db = PgConnection::connect(database_url).await?;
    let versions: Vec<(String, i64)> = sqlx::query_as(
        "SELECT stream_id, max(stream_version) FROM events WHERE stream_id LIKE 'incident-%' GROUP BY stream_id",
    )
    .fetch_all(&mut db)
    .await?;
    let extra_concerns = sqlx::query_scalar("SELECT count(*) - count(DISTINCT summary) FROM concerns")
        .fetch_one(&mut db)
        .await?;
    let acknowledged_twice = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT stream_id FROM events WHERE event_type = $1
         GROUP BY stream_id HAVING count(*) > 1) twice",
    )
    .bind(IncidentAcknowledged::TYPE)
    .fetch_one(&mut db)
    .await?;
    let outbox = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&mut db)
        .await?;
    Ok(Store {
        versions: versions
            .into_iter()
            .filter_map(|(stream, version)| Some((concern_of(&stream)?, version)))
            .collect(),
        extra_concerns,
        acknowledged_twice,
        outbox,
    })
}

/// Reporting's read model of concerns.
pub(super) struct Model {
    /// Each concern it holds, and whether it holds it acknowledged.
    pub acknowledged: HashMap<Uuid, bool>,
    /// The version of each concern's stream it has applied.
    pub positions: HashMap<Uuid, i64>,
    /// Records of the incident topic parked or waiting for a version.
    pub parked: i64,
}

pub(super) async fn model(database_url: &str) -> Result<Model> {
    let mut db = PgConnection::connect(database_url).await?;
    let rows: Vec<(Uuid, bool)> =
        sqlx::query_as("SELECT incident_id, acknowledged_at IS NOT NULL FROM concerns")
            .fetch_all(&mut db)
            .await?;
    let positions: Vec<(String, i64)> =
        sqlx::query_as("SELECT stream_id, version FROM stream_positions WHERE consumer = $1")
            .bind(ReadModel::NAME)
            .fetch_all(&mut db)
            .await?;
    let parked = sqlx::query_scalar("SELECT count(*) FROM dead_letters WHERE consumer = $1")
        .bind(ReadModel::NAME)
        .fetch_one(&mut db)
        .await?;
    Ok(Model {
        acknowledged: rows.into_iter().collect(),
        positions: positions
            .into_iter()
            .filter_map(|(stream, version)| Some((concern_of(&stream)?, version)))
            .collect(),
        parked,
    })
}

impl Model {
    /// Streams whose applied version is not the store's, and records still parked.
    pub fn gaps(&self, store: &Store) -> usize {
        let behind = store
            .versions
            .iter()
            .filter(|(id, version)| self.positions.get(id) != Some(version))
            .count();
        behind + self.parked as usize
    }
}

/// The incident topic, read from the start to its end.
#[derive(Default)]
pub(super) struct Topic {
    pub reported: HashSet<Uuid>,
    pub acknowledged: HashSet<Uuid>,
    pub records: usize,
    /// Records of a stream version already read (at-least-once delivery; consumers skip them).
    pub again: usize,
    /// A stream version first read after a later one of its stream, or past a version not yet read.
    pub order_violations: usize,
}

pub(super) async fn topic(log: &SharedLog) -> Result<Topic> {
    let (consumer, partitions) = crate::bench::incident_topic_from_start(log, true)?;
    let mut ended = HashSet::new();
    // Each stream's versions in the order they were first read: 1, 2, … when in order.
    let mut read: HashMap<String, HashSet<i64>> = HashMap::new();
    let mut counted = Topic::default();
    while ended.len() < partitions {
        let message = match tokio::time::timeout(Duration::from_secs(60), consumer.recv()).await {
            Err(_) => anyhow::bail!("the incident topic did not reach its end within 60 s of quiet"),
            Ok(Err(KafkaError::PartitionEOF(partition))) => {
                ended.insert(partition);
                continue;
            }
            Ok(message) => message?,
        };
        let Ok(envelope) = from_kafka(&record_of(&message)) else {
            continue;
        };
        counted.records += 1;
        let versions = read.entry(envelope.stream_id.clone()).or_default();
        if !versions.insert(envelope.stream_version) {
            counted.again += 1;
            continue;
        }
        if envelope.stream_version != versions.len() as i64 {
            counted.order_violations += 1;
        }
        let Some(id) = concern_of(&envelope.stream_id) else {
            continue;
        };
        if envelope.event_type == IncidentReported::TYPE {
            counted.reported.insert(id);
        } else if envelope.event_type == IncidentAcknowledged::TYPE {
            counted.acknowledged.insert(id);
        }
    }
    Ok(counted)
}

fn concern_of(stream_id: &str) -> Option<Uuid> {
    stream_id.strip_prefix("incident-")?.parse().ok()
}
