//! The outbox relay: publishes committed events to Kafka and forgets them only once the broker has
//! acknowledged them.
//!
//! Gap safety: the relay keeps no position cursor. It reads whatever rows are in the outbox, in
//! position order, and deletes the acknowledged ones. A transaction that took a low position but
//! commits late simply shows up in a later batch; nothing can be skipped. Per-stream order holds
//! because a stream's next event can only be appended after its previous one committed, and the
//! idempotent producer keeps a partition's order through its own retries.

use std::time::Duration;

use futures::future::join_all;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, Producer};
use sqlx::postgres::PgListener;
use sqlx::{Connection, PgConnection, Row};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info, info_span, warn};
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
}

/// Only one relay per database publishes at a time, so two replicas of a service never interleave.
const LEADER_LOCK: &str = "SELECT pg_try_advisory_lock(hashtext('trustsafe.outbox.relay'))";

impl Relay {
    pub fn new(store: EventStore, log: &kafka::SharedLog, config: RelayConfig) -> Result<Self, KafkaError> {
        let producer = log.producer().create()?;
        Ok(Self {
            store,
            log: log.clone(),
            producer,
            config,
        })
    }

    /// Publishes until `shutdown` is cancelled. Keeps trying through broker and database outages.
    pub async fn run(&self, shutdown: CancellationToken) {
        let Some(_leader) = self.become_leader(&shutdown).await else {
            return;
        };
        let mut listener = None;
        while !shutdown.is_cancelled() {
            if listener.is_none() {
                listener = self.listen().await;
            }
            let outcome = match self.publish_batch().await {
                Ok(outcome) => outcome,
                Err(err) => {
                    warn!(%err, "relay could not read the outbox");
                    BatchOutcome {
                        failed: 1,
                        ..BatchOutcome::default()
                    }
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
        // Let what is in flight land; whatever does not is still in the outbox for next time.
        let producer = self.producer.clone();
        let _ = tokio::task::spawn_blocking(move || producer.flush(Duration::from_secs(5))).await;
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

    /// Publishes up to one batch of the outbox and deletes what the broker acknowledged.
    pub async fn publish_batch(&self) -> Result<BatchOutcome, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT o.topic, o.global_position, {ENVELOPE_COLUMNS}
               FROM outbox o JOIN events e ON e.global_position = o.global_position
              ORDER BY o.global_position LIMIT $1"
        ))
        .bind(self.config.batch_size)
        .fetch_all(self.store.pool())
        .await?;
        if rows.is_empty() {
            metrics::OUTBOX_PENDING.set(0);
            return Ok(BatchOutcome::default());
        }
        let full = rows.len() as i64 == self.config.batch_size;
        let span = info_span!("relay.publish", events = rows.len());
        let mut deliveries = Vec::with_capacity(rows.len());
        let mut refused = 0;
        async {
            for row in &rows {
                let position: i64 = row.try_get("global_position")?;
                let topic = self.log.topic(row.try_get("topic")?);
                let record = to_kafka(&envelope_from_row(row, self.store.source())?);
                let message = kafka::future_record(&topic, &record);
                match self.producer.send_result(message) {
                    Ok(delivery) => deliveries.push((position, delivery)),
                    Err((err, _)) => {
                        // The local queue is full or the client is failing: stop here, in order.
                        warn!(%err, "relay could not enqueue");
                        refused = rows.len() - deliveries.len();
                        break;
                    }
                }
            }
            Ok::<_, StoreError>(())
        }
        .instrument(span.clone())
        .await?;

        let (positions, deliveries): (Vec<i64>, Vec<_>) = deliveries.into_iter().unzip();
        let results = join_all(deliveries).instrument(span).await;
        let mut acknowledged = Vec::with_capacity(positions.len());
        let mut failed = refused;
        for (position, result) in positions.into_iter().zip(results) {
            match result {
                Ok(Ok(_)) => acknowledged.push(position),
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
                .execute(self.store.pool())
                .await?;
        }
        metrics::RELAY_PUBLISHED.inc_by(acknowledged.len() as u64);
        metrics::RELAY_FAILURES.inc_by(failed as u64);
        if full || failed > 0 {
            let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
                .fetch_one(self.store.pool())
                .await?;
            metrics::OUTBOX_PENDING.set(pending);
        } else {
            metrics::OUTBOX_PENDING.set(0);
        }
        if failed > 0 {
            info!(published = acknowledged.len(), failed, "relay batch incomplete");
        }
        Ok(BatchOutcome {
            published: acknowledged.len(),
            failed,
            full,
        })
    }
}
