//! The outbox relay: publishes committed events to Kafka and forgets them only once the broker has
//! acknowledged them.
//!
//! Gap safety: the relay keeps no position cursor. It reads whatever rows are in the outbox, in
//! position order, and deletes the acknowledged ones. A transaction that took a low position but
//! commits late simply shows up in a later batch; nothing can be skipped. Per-stream order holds
//! because a stream's next event can only be appended after its previous one committed, and the
//! idempotent producer keeps a partition's order through its own retries.

use std::time::{Duration, Instant};

use futures::future::join_all;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, Producer};
use sqlx::postgres::PgListener;
use sqlx::{Connection, PgConnection, Row};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, error, info, info_span, warn};
use trustsafe_events::to_kafka;

use crate::store::{ENVELOPE_COLUMNS, envelope_from_row};
use crate::{EventStore, OUTBOX_CHANNEL, StoreError, kafka, metrics};

#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// Rows read and published per round trip.
    pub batch_size: i64,
    /// How often to look even without a notification (a notification can be lost on a reconnect).
    pub idle_poll: Duration,
    /// Pause after the broker refused or did not answer, before trying again.
    pub retry_backoff: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            idle_poll: Duration::from_secs(1),
            retry_backoff: Duration::from_millis(500),
        }
    }
}

/// What one round published.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub published: usize,
    pub failed: usize,
    /// The batch was full: there is probably more waiting.
    pub full: bool,
}

pub struct Relay {
    store: EventStore,
    log: kafka::SharedLog,
    producer: FutureProducer,
    config: RelayConfig,
    /// When the outbox gauges were last set.
    counted_at: std::sync::Mutex<Option<Instant>>,
}

const PENDING_COUNT_INTERVAL: Duration = Duration::from_secs(1);

/// Only one relay per database publishes at a time, so two replicas of a service never interleave.
const LEADER_LOCK: &str = "SELECT pg_try_advisory_lock(hashtext('trustsafe.outbox.relay'))";

impl Relay {
    pub fn new(store: EventStore, log: &kafka::SharedLog, config: RelayConfig) -> Result<Self, KafkaError> {
        // No delivery is ever given up: one that expired while a later one of its stream was
        // delivered would reach the topic after it when retried (librdkafka's message timeout
        // considerations). Through an outage of any length the batch waits and order holds.
        let producer = log.producer().set("message.timeout.ms", "0").create()?;
        Ok(Self {
            store,
            log: log.clone(),
            producer,
            config,
            counted_at: std::sync::Mutex::new(None),
        })
    }

    /// Publishes until `shutdown` is cancelled. Keeps trying through broker and database outages.
    pub async fn run(&self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let Some(mut leader) = self.become_leader(&shutdown).await else {
                break;
            };
            self.lead(&mut leader, &shutdown).await;
        }
        // Let what is in flight land; whatever does not is still in the outbox for next time.
        let producer = self.producer.clone();
        let _ = tokio::task::spawn_blocking(move || producer.flush(Duration::from_secs(5))).await;
    }

    /// Publishes for as long as `leader`, the connection that holds the lock, answers. Every read
    /// and delete of the outbox goes through it: a relay whose lock connection died (a restarted
    /// database, a killed backend, a broken network) finds out at its next query, when another
    /// relay may already hold the lock, and stands for leader again instead of publishing beside it.
    async fn lead(&self, leader: &mut PgConnection, shutdown: &CancellationToken) {
        let mut listener = None;
        while !shutdown.is_cancelled() {
            if listener.is_none() {
                listener = self.listen().await;
            }
            // A batch waits on the broker for as long as it is away; stopping does not.
            let published = tokio::select! {
                published = self.publish_batch(leader) => published,
                _ = shutdown.cancelled() => return,
            };
            let outcome = match published {
                Ok(outcome) => outcome,
                Err(err) => {
                    warn!(%err, "relay could not read or clear the outbox on its leader connection; standing for leader again");
                    tokio::select! {
                        _ = tokio::time::sleep(self.config.retry_backoff) => {}
                        _ = shutdown.cancelled() => {}
                    }
                    return;
                }
            };
            if outcome.failed > 0 {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.retry_backoff) => {}
                    _ = shutdown.cancelled() => {}
                }
            } else if !outcome.full {
                let wake = async {
                    match listener.as_mut() {
                        Some(listener) => {
                            if listener.recv().await.is_err() {
                                // Reconnect on the next round; poll until then.
                                tokio::time::sleep(self.config.retry_backoff).await;
                            }
                        }
                        None => tokio::time::sleep(self.config.retry_backoff).await,
                    }
                };
                tokio::select! {
                    _ = wake => {}
                    _ = tokio::time::sleep(self.config.idle_poll) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
        }
    }

    /// Holds the advisory lock on a connection of its own: if this process dies, the connection
    /// closes and another relay takes over.
    async fn become_leader(&self, shutdown: &CancellationToken) -> Option<PgConnection> {
        loop {
            let attempt = async {
                let mut conn = PgConnection::connect_with(&self.store.pool().connect_options()).await?;
                let leader: bool = sqlx::query_scalar(LEADER_LOCK).fetch_one(&mut conn).await?;
                Ok::<_, sqlx::Error>(leader.then_some(conn))
            };
            match attempt.await {
                Ok(Some(conn)) => return Some(conn),
                Ok(None) => {}
                Err(err) => warn!(%err, "relay cannot reach the database"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.idle_poll) => {}
                _ = shutdown.cancelled() => return None,
            }
        }
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = PgListener::connect_with(self.store.pool()).await.ok()?;
        listener.listen(OUTBOX_CHANNEL).await.ok()?;
        Some(listener)
    }

    /// Publishes up to one batch of the outbox and deletes what the broker acknowledged, reading
    /// and deleting on `leader`: the connection that holds the leader lock.
    ///
    /// An event refused for good (see [`unpublishable`]) holds its stream: it and every later event
    /// of that stream stay in the outbox, in order, and `outbox_held` says why, while every other
    /// stream goes on. One bad row no longer stops the relay for everything behind it.
    pub async fn publish_batch(&self, leader: &mut PgConnection) -> Result<BatchOutcome, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT o.topic, o.global_position, {ENVELOPE_COLUMNS}
               FROM outbox o JOIN events e ON e.global_position = o.global_position
              WHERE NOT EXISTS (SELECT 1 FROM outbox_held h WHERE h.stream_id = e.stream_id)
              ORDER BY o.global_position LIMIT $1"
        ))
        .bind(self.config.batch_size)
        .fetch_all(&mut *leader)
        .await?;
        if rows.is_empty() {
            self.count_pending(leader).await?;
            return Ok(BatchOutcome::default());
        }
        let full = rows.len() as i64 == self.config.batch_size;
        let span = info_span!("relay.publish", events = rows.len());
        let mut deliveries = Vec::with_capacity(rows.len());
        let mut held = Held::default();
        let mut refused = 0;
        async {
            for (index, row) in rows.iter().enumerate() {
                let position: i64 = row.try_get("global_position")?;
                let stream: String = row.try_get("stream_id")?;
                if held.holds(&stream) {
                    continue;
                }
                let topic = self.log.topic(row.try_get("topic")?);
                let record = to_kafka(&envelope_from_row(row, self.store.source())?);
                let message = kafka::future_record(&topic, &record);
                match self.producer.send_result(message) {
                    Ok(delivery) => deliveries.push((position, stream, delivery)),
                    Err((err, _)) if unpublishable(&err) => held.add(stream, position, &err),
                    Err((err, _)) => {
                        // The local queue is full or the client is failing: stop here, in order.
                        warn!(%err, "relay could not enqueue");
                        refused = rows.len() - index;
                        break;
                    }
                }
            }
            Ok::<_, StoreError>(())
        }
        .instrument(span.clone())
        .await?;

        let (positions, deliveries): (Vec<(i64, String)>, Vec<_>) = deliveries
            .into_iter()
            .map(|(position, stream, delivery)| ((position, stream), delivery))
            .unzip();
        let results = join_all(deliveries).instrument(span).await;
        let mut acknowledged = Vec::with_capacity(positions.len());
        let mut failed = refused;
        for ((position, stream), result) in positions.into_iter().zip(results) {
            match result {
                Ok(Ok(_)) => acknowledged.push(position),
                // Refused by the broker for good (a record over its own size limit). Later events of
                // the stream sent in this batch may already be on the topic: consumers see the gap.
                Ok(Err((err, _))) if unpublishable(&err) => held.add(stream, position, &err),
                Ok(Err((err, _))) => {
                    failed += 1;
                    if failed == 1 {
                        warn!(%err, "broker did not acknowledge; will retry");
                    }
                }
                Err(_) => failed += 1,
            }
        }
        if !acknowledged.is_empty() {
            sqlx::query("DELETE FROM outbox WHERE global_position = ANY($1)")
                .bind(&acknowledged)
                .execute(&mut *leader)
                .await?;
        }
        held.record(leader).await?;
        metrics::RELAY_PUBLISHED.inc_by(acknowledged.len() as u64);
        metrics::RELAY_FAILURES.inc_by(failed as u64);
        self.count_pending(leader).await?;
        if failed > 0 {
            info!(published = acknowledged.len(), failed, "relay batch incomplete");
        }
        Ok(BatchOutcome {
            published: acknowledged.len(),
            failed,
            full,
        })
    }

    /// Sets the outbox gauges, at most once a second: behind a backlog of a hundred thousand rows a
    /// count after every batch of a thousand would read the outbox a hundred times over.
    async fn count_pending(&self, leader: &mut PgConnection) -> Result<(), StoreError> {
        {
            let mut counted = self.counted_at.lock().expect("not poisoned");
            if counted.is_some_and(|at| at.elapsed() < PENDING_COUNT_INTERVAL) {
                return Ok(());
            }
            *counted = Some(Instant::now());
        }
        let (pending, held): (i64, i64) =
            sqlx::query_as("SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM outbox_held)")
                .fetch_one(&mut *leader)
                .await?;
        metrics::OUTBOX_PENDING.set(pending);
        metrics::OUTBOX_HELD_STREAMS.set(held);
        Ok(())
    }
}

/// What no retry will mend: the broker or the client refuses the record itself. Anything else (a
/// broker away, a full queue, a timeout) is retried, in order.
fn unpublishable(err: &KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode::*;
    matches!(
        err.rdkafka_error_code(),
        Some(MessageSizeTooLarge | InvalidMessageSize | InvalidMessage | InvalidRecord | PolicyViolation)
    )
}

/// The streams this batch found unpublishable, each at its first refused event.
#[derive(Default)]
struct Held(Vec<(String, i64, String)>);

impl Held {
    fn holds(&self, stream: &str) -> bool {
        self.0.iter().any(|(held, ..)| held == stream)
    }

    fn add(&mut self, stream: String, position: i64, err: &KafkaError) {
        if !self.holds(&stream) {
            error!(%err, stream, position, "the broker refuses this event for good: its stream is held");
            self.0.push((stream, position, err.to_string()));
        }
    }

    async fn record(self, leader: &mut PgConnection) -> Result<(), StoreError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let (streams, rest): (Vec<String>, Vec<(i64, String)>) = self
            .0
            .into_iter()
            .map(|(stream, position, reason)| (stream, (position, reason)))
            .unzip();
        let (positions, reasons): (Vec<i64>, Vec<String>) = rest.into_iter().unzip();
        sqlx::query(
            "INSERT INTO outbox_held (stream_id, global_position, reason)
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) ON CONFLICT DO NOTHING",
        )
        .bind(&streams)
        .bind(&positions)
        .bind(&reasons)
        .execute(&mut *leader)
        .await?;
        Ok(())
    }
}
