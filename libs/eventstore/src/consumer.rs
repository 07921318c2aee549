//! The consumer kit: read topics as a consumer group and apply events to a projection, each with its
//! effect and its dedup row, in batches (what has already arrived when one does) of one database
//! transaction with their checkpoints. The Kafka offsets are stored only after that commit, so a crash
//! between the two redelivers events whose dedup rows already exist: each effect happens exactly once.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::ClientContext;
use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer as _, ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::topic_partition_list::TopicPartitionList;
use sqlx::{PgConnection, PgPool};
use thiserror::Error;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info_span, warn};
use trustsafe_events::{DecodeError, Envelope, KafkaRecord, from_kafka, kind_of};

use crate::positions::{self, Place, Positions};
use crate::stranded::{GroupProgress, PartitionProgress, STRANDED_AFTER, STRANDED_LOOK, StrandedWatch};
use crate::{kafka, metrics};

/// A read model (or a reaction) fed by the log. Implement the methods as `async fn`.
pub trait Projection: Send + Sync + 'static {
    /// The consumer group, and the key of this projection's dedup and checkpoint rows.
    fn name(&self) -> &str;
    fn topics(&self) -> Vec<String>;
    /// The effect of one event, inside the caller's transaction. Events of types this projection
    /// does not care about are simply ignored (return `Ok`).
    fn apply(
        &self,
        tx: &mut PgConnection,
        event: &Envelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
    /// The effect of several events, in log order, inside the caller's transaction: what a rebuild
    /// calls with each batch it reads. The default applies them one by one; a projection whose
    /// events can be written together (one insert for a batch's reports) does better. Rejecting
    /// one rejects the call: the kit then applies them one by one to find which.
    fn apply_batch(
        &self,
        tx: &mut PgConnection,
        events: &[&Envelope],
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        async move {
            for event in events {
                self.apply(tx, event).await?;
            }
            Ok(())
        }
    }
    /// The read model's tables, parents before children, written by this projection alone: a
    /// rebuild fills fresh copies of them and swaps their rows in when it has caught up. Empty for
    /// a reaction, whose effects are not a model to rebuild (what it records keeps it from acting twice).
    fn tables(&self) -> &[&str];
}

#[derive(Debug, Error)]
pub enum HandlerError {
    /// The event can never be applied (its data does not fit its type): park it and move on.
    #[error("rejected: {0}")]
    Reject(String),
    /// Worth trying again (the database is away): the partition waits.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<DecodeError> for HandlerError {
    fn from(err: DecodeError) -> Self {
        HandlerError::Reject(err.to_string())
    }
}

#[derive(Debug, Error)]
pub enum ConsumerError {
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("group {0}: nobody consumed its partitions for {1:?} while this member held none; joining again")]
    Stranded(String, Duration),
}

#[derive(Clone, Debug)]
pub struct ConsumerConfig {
    pub log: kafka::SharedLog,
    /// Pause before retrying an event whose transaction failed.
    pub retry_backoff: Duration,
}

impl ConsumerConfig {
    pub fn new(log: &kafka::SharedLog) -> Self {
        Self {
            log: log.clone(),
            retry_backoff: Duration::from_millis(500),
        }
    }
}

/// The most records applied in one transaction: those already fetched when the first arrives.
const MAX_BATCH: usize = 500;

/// A record as read, and where from (its topic as the contract names it).
pub struct Read {
    pub record: KafkaRecord,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Set when the record is being tried again from `dead_letters`.
    parked: Option<Parked>,
}

/// A record's row in `dead_letters`, and whether it waits for an earlier version of its stream (and
/// so keeps its place in the stream) or was parked as poison (and is tried again out of order).
#[derive(Clone, Copy, Debug)]
struct Parked {
    id: i64,
    waiting: bool,
}

/// How a record ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Duplicate,
    Parked,
    /// Parked until an earlier version of its stream has been applied.
    Waiting,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Duplicate => "duplicate",
            Outcome::Parked => "parked",
            Outcome::Waiting => "waiting",
        }
    }
}

pub struct Consumer<P> {
    pub(crate) pool: PgPool,
    pub(crate) projection: Arc<P>,
    pub(crate) config: ConsumerConfig,
}

impl<P: Projection> Consumer<P> {
    pub fn new(pool: PgPool, projection: Arc<P>, config: ConsumerConfig) -> Self {
        Self {
            pool,
            projection,
            config,
        }
    }

    /// The projection's name: its consumer group and its metrics' label.
    pub fn name(&self) -> &str {
        self.projection.name()
    }

    fn kafka_consumer(&self) -> Result<StreamConsumer<LiveContext>, KafkaError> {
        self.config
            .log
            .consumer(self.projection.name())
            .set("statistics.interval.ms", STATISTICS_INTERVAL_MS)
            .create_with_context(LiveContext {
                consumer: self.projection.name().to_owned(),
            })
    }

    /// The projection's topics as the broker names them.
    pub(crate) fn broker_topics(&self) -> Vec<String> {
        self.projection
            .topics()
            .iter()
            .map(|topic| self.config.log.topic(topic))
            .collect()
    }

    /// Consumes as a member of the group until `shutdown` is cancelled.
    pub async fn run(&self, shutdown: CancellationToken) -> Result<(), ConsumerError> {
        self.rebuild_if_asked().await?;
        self.redrive_parked(&shutdown).await?;
        let consumer = kafka::OffRuntime::new(self.kafka_consumer()?);
        let topics = self.broker_topics();
        consumer.subscribe(&topics.iter().map(String::as_str).collect::<Vec<_>>())?;
        let mut failing = Failing::new(self.projection.name());
        let mut stranded = StrandedWatch::default();
        // Not at once: a member that has just subscribed holds nothing yet.
        let mut look = tokio::time::interval_at(tokio::time::Instant::now() + STRANDED_LOOK, STRANDED_LOOK);
        loop {
            let message = tokio::select! {
                message = consumer.recv() => message,
                _ = look.tick() => {
                    let holds = !consumer.assignment().map(|list| list.count() == 0).unwrap_or(true);
                    if self.stranded(holds, &mut stranded).await {
                        consumer.close().await;
                        return Err(ConsumerError::Stranded(
                            self.config.log.group(self.projection.name()),
                            STRANDED_AFTER,
                        ));
                    }
                    continue;
                }
                _ = shutdown.cancelled() => break,
            };
            let mut batch = match message {
                Ok(message) => vec![self.read(&message)],
                Err(err) => {
                    failing.error(&err);
                    continue;
                }
            };
            failing.over();
            // What else is already here joins the same transaction.
            while batch.len() < MAX_BATCH {
                match consumer.recv().now_or_never() {
                    Some(Ok(message)) => batch.push(self.read(&message)),
                    Some(Err(err)) => {
                        failing.error(&err);
                        break;
                    }
                    None => break,
                }
            }
            if self
                .handle_until_done(&batch, Applier::Live, &shutdown)
                .await
                .is_none()
            {
                break;
            }
            for read in &batch {
                // A partition revoked while its batch was applied belongs to another member now,
                // which reads on from the last commit: the dedup rows make that harmless.
                let topic = self.config.log.topic(&read.topic);
                if let Err(err) = consumer.store_offset(&topic, read.partition, read.offset) {
                    warn!(%err, consumer = self.projection.name(), topic, partition = read.partition,
                          "offset not stored (partition revoked?)");
                }
            }
        }
        // Commit what was stored so a restart does not redeliver it (it would be deduplicated anyway).
        // Async: a blocking commit would stall this runtime thread for as long as the broker is away.
        let _ = consumer.commit_consumer_state(CommitMode::Async);
        consumer.close().await;
        Ok(())
    }

    /// Whether this member has held nothing while its group stood stranded for too long
    /// ([`StrandedWatch`]); the group's progress is asked for only when the watch wants it.
    async fn stranded(&self, holds: bool, watch: &mut StrandedWatch) -> bool {
        if holds {
            watch.holds();
            return false;
        }
        if !watch.wants_progress(Instant::now()) {
            return false;
        }
        // A broker that cannot say now says nothing either way.
        let Some(progress) = self.group_progress().await else {
            return false;
        };
        debug!(
            consumer = self.projection.name(),
            ?progress,
            "holding nothing; the group's progress"
        );
        watch.seen(Instant::now(), &progress)
    }

    /// For each partition of this consumer's topics: the group's committed offset and the end of
    /// the partition (None when the broker cannot say now). A committed offset the group's
    /// coordinator does not answer for, while the partitions' leaders do, counts as -1: a coordinator
    /// that stays silent is as stuck as one that answers the same offsets.
    async fn group_progress(&self) -> Option<GroupProgress> {
        let config = self.config.log.consumer(self.projection.name());
        let topics = self.broker_topics();
        tokio::task::spawn_blocking(move || {
            let client: rdkafka::consumer::BaseConsumer = config.create()?;
            let ends = end_offsets(&client, &topics)?;
            let mut wanted = TopicPartitionList::new();
            for (topic, partition) in ends.keys() {
                wanted.add_partition(topic, *partition);
            }
            let committed = client
                .committed_offsets(wanted, Duration::from_secs(5))
                .unwrap_or_default();
            Ok::<_, KafkaError>(
                ends.into_iter()
                    .map(|((topic, partition), end)| {
                        let committed = match committed.find_partition(&topic, partition) {
                            Some(element) => element.offset().to_raw().unwrap_or(0).max(0),
                            None => -1,
                        };
                        ((topic, partition), PartitionProgress { committed, end })
                    })
                    .collect(),
            )
        })
        .await
        .ok()?
        .ok()
    }

    /// A record as read, with where it was read from.
    pub(crate) fn read<M: Message>(&self, message: &M) -> Read {
        Read {
            record: kafka::record_of(message),
            topic: self.config.log.contract_topic(message.topic()).to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            parked: None,
        }
    }

    /// Handles a batch, retrying while the database is away. None when shut down first.
    pub(crate) async fn handle_until_done(
        &self,
        batch: &[Read],
        by: Applier<'_>,
        shutdown: &CancellationToken,
    ) -> Option<Vec<Outcome>> {
        loop {
            match self.handle(batch, by).await {
                Ok(outcomes) => return Some(outcomes),
                Err(err) => {
                    let first = &batch[0];
                    warn!(%err, consumer = self.projection.name(), topic = first.topic, partition = first.partition,
                          offset = first.offset, records = batch.len(), "will retry");
                    tokio::select! {
                        _ = tokio::time::sleep(self.config.retry_backoff) => {}
                        _ = shutdown.cancelled() => return None,
                    }
                }
            }
        }
    }

    /// Applies each record of `batch` exactly once and each stream in version order, or parks a
    /// record when it cannot be read or applied (or must wait for an earlier version), in one
    /// transaction with the checkpoints and the streams' positions: all of it happens, or none of it
    /// and the batch is retried.
    ///
    /// First all at once: the batch's dedup rows in one statement, each effect straight after the
    /// last. Only if the projection rejects a record (or panics on it) is that undone and the batch
    /// applied again record by record, each in a savepoint, so the one record can be parked alone.
    /// A rebuild is almost all first passes: half the round trips of a savepoint per record.
    async fn handle(&self, batch: &[Read], by: Applier<'_>) -> Result<Vec<Outcome>, sqlx::Error> {
        let name = self.projection.name();
        let envelopes: Vec<Result<Envelope, DecodeError>> =
            batch.iter().map(|read| decode(&read.record)).collect();
        let mut careful = false;
        loop {
            let mut tx = self.pool.begin().await?;
            match by {
                // Shared with other live batches, exclusive against a rebuild's swap: a batch
                // commits before the swap (and so is in what the rebuild reads) or after it.
                Applier::Live => {
                    sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))")
                        .bind(fence_key(name))
                        .execute(&mut *tx)
                        .await?;
                }
                // The rebuild's fresh tables first; what is not rebuilt, the live ones. Nothing of
                // a rebuild counts until its swap, which commits as every write does, so its batches
                // need not wait for the WAL to reach the disk. Its tables grow from nothing: each
                // statement is planned for them as they are now, not once while they were empty.
                Applier::Rebuild { search_path } => {
                    sqlx::query(
                        "SELECT set_config('search_path', $1, true), set_config('synchronous_commit', 'off', true),
                                set_config('plan_cache_mode', 'force_custom_plan', true)",
                    )
                    .bind(search_path)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            let mut positions = Positions::load(&mut tx, name, envelopes.iter().flatten()).await?;
            let plans = self.plan(&mut tx, batch, &envelopes, &mut positions).await?;
            let outcomes = if careful {
                self.apply_each(&mut tx, batch, &envelopes, &plans).await?
            } else {
                match self.apply_all(&mut tx, batch, &envelopes, &plans, by).await? {
                    Some(outcomes) => outcomes,
                    None => {
                        careful = true;
                        continue;
                    }
                }
            };
            let released = self.release_waiting(&mut tx, &mut positions).await?;
            positions.save(&mut tx, name).await?;
            self.finish(tx, batch, &outcomes, &released).await?;
            return Ok(outcomes);
        }
    }

    /// What each record of a batch comes to, against its stream's position (which moves as the
    /// batch's records are placed in order) and the events this consumer has had.
    async fn plan(
        &self,
        tx: &mut PgConnection,
        batch: &[Read],
        envelopes: &[Result<Envelope, DecodeError>],
        positions: &mut Positions,
    ) -> Result<Vec<Plan>, sqlx::Error> {
        let mut places = Vec::with_capacity(batch.len());
        // The events of this batch that will have been applied (or parked) before a later copy.
        let mut earlier = std::collections::HashSet::new();
        let mut asked = Vec::new();
        for (read, envelope) in batch.iter().zip(envelopes) {
            let Ok(envelope) = envelope else {
                places.push(None);
                continue;
            };
            let place = positions.place(envelope);
            let poison_again = read.parked.is_some_and(|parked| !parked.waiting);
            if place == Place::Behind || poison_again {
                asked.push(envelope.event_id);
            }
            if place == Place::Next {
                earlier.insert(envelope.event_id);
            }
            places.push(Some(place));
        }
        let except: Vec<i64> = batch.iter().filter_map(|read| Some(read.parked?.id)).collect();
        let known = positions::known_events(tx, self.projection.name(), &asked, &except).await?;
        Ok(batch
            .iter()
            .zip(envelopes)
            .zip(places)
            .map(|((read, envelope), place)| {
                let (envelope, place) = match (envelope, place) {
                    (Err(err), _) => return Plan::Park(err.to_string()),
                    (Ok(envelope), Some(place)) => (envelope, place),
                    (Ok(_), None) => unreachable!("every decoded record is placed"),
                };
                let had = known.contains(&envelope.event_id);
                match place {
                    // Parked as poison and passed over: tried again wherever its stream is now.
                    _ if read.parked.is_some_and(|parked| !parked.waiting) => {
                        if had {
                            Plan::Copy
                        } else {
                            Plan::Apply
                        }
                    }
                    Place::Next => Plan::Apply,
                    Place::Behind if had || earlier.contains(&envelope.event_id) => Plan::Copy,
                    Place::Behind => Plan::Park(format!(
                        "version {} of stream {} was already applied as another event",
                        envelope.stream_version, envelope.stream_id
                    )),
                    Place::Ahead { waiting_for } => Plan::Wait { waiting_for },
                }
            })
            .collect())
    }

    /// The first pass: None when a record was rejected, with the transaction to be dropped. A
    /// rebuild hands the projection the batch's events together; the live consumer applies each in
    /// its own trace (the appender's, continued).
    async fn apply_all(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        batch: &[Read],
        envelopes: &[Result<Envelope, DecodeError>],
        plans: &[Plan],
        by: Applier<'_>,
    ) -> Result<Option<Vec<Outcome>>, sqlx::Error> {
        let ids: Vec<uuid::Uuid> = envelopes
            .iter()
            .zip(plans)
            .filter(|(_, plan)| matches!(plan, Plan::Apply))
            .filter_map(|(envelope, _)| envelope.as_ref().ok().map(|envelope| envelope.event_id))
            .collect();
        let mut fresh: std::collections::HashSet<uuid::Uuid> = sqlx::query_scalar(
            "INSERT INTO processed_events (consumer, event_id) SELECT $1, unnest($2::uuid[])
             ON CONFLICT DO NOTHING RETURNING event_id",
        )
        .bind(self.projection.name())
        .bind(&ids)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .collect();
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut effects = Vec::new();
        for ((read, envelope), plan) in batch.iter().zip(envelopes).zip(plans) {
            let outcome = match (plan, envelope) {
                (Plan::Apply, Ok(envelope)) if fresh.remove(&envelope.event_id) => {
                    effects.push((envelope, read));
                    Outcome::Applied
                }
                // Applied before its position was kept, or a copy earlier in this batch.
                (Plan::Apply, Ok(_)) => Outcome::Duplicate,
                (plan, envelope) => {
                    self.settle_unapplied(tx, read, envelope.as_ref().ok(), plan)
                        .await?
                }
            };
            outcomes.push(outcome);
        }
        let applied = match by {
            Applier::Rebuild { .. } => self.effects_together(tx, &effects).await,
            Applier::Live => {
                let mut applied = Ok(());
                for (envelope, read) in &effects {
                    applied = self.effect(tx, envelope, read).await;
                    if applied.is_err() {
                        break;
                    }
                }
                applied
            }
        };
        match applied {
            Ok(()) => {}
            Err(HandlerError::Database(err)) => return Err(err),
            Err(HandlerError::Reject(_)) => return Ok(None),
        }
        self.forget_parked(tx, batch, &outcomes).await?;
        Ok(Some(outcomes))
    }

    /// The careful pass: each record with its dedup row in a savepoint of its own.
    async fn apply_each(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        batch: &[Read],
        envelopes: &[Result<Envelope, DecodeError>],
        plans: &[Plan],
    ) -> Result<Vec<Outcome>, sqlx::Error> {
        let mut outcomes = Vec::with_capacity(batch.len());
        for ((read, envelope), plan) in batch.iter().zip(envelopes).zip(plans) {
            let outcome = match (plan, envelope) {
                (Plan::Apply, Ok(envelope)) => self.apply(tx, envelope, read).await?,
                (plan, envelope) => {
                    self.settle_unapplied(tx, read, envelope.as_ref().ok(), plan)
                        .await?
                }
            };
            outcomes.push(outcome);
        }
        self.forget_parked(tx, batch, &outcomes).await?;
        Ok(outcomes)
    }

    /// A record that is not applied: a copy passes, the rest are parked with why.
    async fn settle_unapplied(
        &self,
        tx: &mut PgConnection,
        read: &Read,
        envelope: Option<&Envelope>,
        plan: &Plan,
    ) -> Result<Outcome, sqlx::Error> {
        match plan {
            Plan::Copy => Ok(Outcome::Duplicate),
            Plan::Park(reason) => self.park(tx, read, envelope, reason, None).await,
            Plan::Wait { waiting_for } => {
                let envelope = envelope.expect("a waiting record was read");
                let reason = format!(
                    "waiting for version {waiting_for} of stream {} before version {}",
                    envelope.stream_id, envelope.stream_version
                );
                self.park(tx, read, Some(envelope), &reason, Some(*waiting_for))
                    .await
            }
            Plan::Apply => unreachable!("applied records are not settled here"),
        }
    }

    /// Parked records tried again that are no longer parked.
    async fn forget_parked(
        &self,
        tx: &mut PgConnection,
        batch: &[Read],
        outcomes: &[Outcome],
    ) -> Result<(), sqlx::Error> {
        let done: Vec<i64> = batch
            .iter()
            .zip(outcomes)
            .filter(|(_, outcome)| matches!(outcome, Outcome::Applied | Outcome::Duplicate))
            .filter_map(|(read, _)| Some(read.parked?.id))
            .collect();
        if !done.is_empty() {
            sqlx::query("DELETE FROM dead_letters WHERE id = ANY($1)")
                .bind(&done)
                .execute(tx)
                .await?;
        }
        Ok(())
    }

    /// Applies the records waiting for versions this batch applied, and those waiting for theirs, in
    /// the batch's transaction. Rare, so record by record.
    async fn release_waiting(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        positions: &mut Positions,
    ) -> Result<Vec<Outcome>, sqlx::Error> {
        let mut released = Vec::new();
        while let Some(streams) = positions.take_unreleased() {
            let waiting = self.parked_records(&mut **tx, Some(&streams)).await?;
            if waiting.is_empty() {
                break;
            }
            let envelopes: Vec<_> = waiting.iter().map(|read| decode(&read.record)).collect();
            let plans = self.plan(tx, &waiting, &envelopes, positions).await?;
            released.extend(self.apply_each(tx, &waiting, &envelopes, &plans).await?);
        }
        Ok(released)
    }

    /// The batch's checkpoints, the commit, the metrics.
    async fn finish(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
        batch: &[Read],
        outcomes: &[Outcome],
        released: &[Outcome],
    ) -> Result<(), sqlx::Error> {
        let name = self.projection.name();
        let mut last: HashMap<(&str, i32), i64> = HashMap::new();
        for read in batch.iter().filter(|read| read.parked.is_none()) {
            let offset = last.entry((&read.topic, read.partition)).or_insert(read.offset);
            *offset = (*offset).max(read.offset);
        }
        for ((topic, partition), offset) in last {
            checkpoint(&mut tx, name, topic, partition, offset).await?;
        }
        tx.commit().await?;
        for outcome in outcomes.iter().chain(released) {
            metrics::CONSUMED
                .with_label_values(&[name, outcome.label()])
                .inc();
        }
        Ok(())
    }

    /// One record's dedup row and effect, inside a savepoint of the batch's transaction: a record the
    /// projection rejects is undone alone and parked.
    async fn apply(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        envelope: &Envelope,
        read: &Read,
    ) -> Result<Outcome, sqlx::Error> {
        let mut savepoint = sqlx::Connection::begin(&mut **tx).await?;
        let fresh = sqlx::query(
            "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(self.projection.name())
        .bind(envelope.event_id)
        .execute(&mut *savepoint)
        .await?
        .rows_affected()
            == 1;
        if !fresh {
            savepoint.commit().await?;
            return Ok(Outcome::Duplicate);
        }
        let applied = self.effect(&mut savepoint, envelope, read).await;
        match applied {
            Ok(()) => {
                savepoint.commit().await?;
                Ok(Outcome::Applied)
            }
            Err(HandlerError::Reject(reason)) => {
                savepoint.rollback().await?;
                self.park(tx, read, Some(envelope), &reason, None).await
            }
            Err(HandlerError::Database(err)) => Err(err),
        }
    }

    /// The projection's effect of one event, in its trace. A projection that panics on a record (a
    /// fault of ours that input reached) has rejected it: the partition, and every school's events
    /// behind it, go on.
    async fn effect(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope,
        read: &Read,
    ) -> Result<(), HandlerError> {
        let span = info_span!("consume", consumer = self.projection.name(), event_type = %envelope.event_type,
                              event_id = %envelope.event_id);
        trustsafe_telemetry::continue_trace(
            &span,
            read.record
                .headers
                .iter()
                .filter_map(|(key, value)| Some((key.as_str(), std::str::from_utf8(value).ok()?))),
        );
        AssertUnwindSafe(self.projection.apply(tx, envelope))
            .catch_unwind()
            .instrument(span)
            .await
            .unwrap_or_else(|panic| Err(HandlerError::Reject(panicked(panic))))
    }

    /// The projection's effect of a rebuild's batch, in one span; a panic rejects it, as in [`effect`].
    async fn effects_together(
        &self,
        tx: &mut PgConnection,
        effects: &[(&Envelope, &Read)],
    ) -> Result<(), HandlerError> {
        if effects.is_empty() {
            return Ok(());
        }
        let events: Vec<&Envelope> = effects.iter().map(|(envelope, _)| *envelope).collect();
        let span = info_span!(
            "consume.batch",
            consumer = self.projection.name(),
            events = events.len()
        );
        AssertUnwindSafe(self.projection.apply_batch(tx, &events))
            .catch_unwind()
            .instrument(span)
            .await
            .unwrap_or_else(|panic| Err(HandlerError::Reject(panicked(panic))))
    }

    /// Keeps a record that cannot be applied, and why, for someone to look at (or, `waiting_for` an
    /// earlier version of its stream, until that has been applied); the partition moves on.
    async fn park(
        &self,
        tx: &mut PgConnection,
        read: &Read,
        envelope: Option<&Envelope>,
        error: &str,
        waiting_for: Option<i64>,
    ) -> Result<Outcome, sqlx::Error> {
        let (record, topic, partition, offset) = (&read.record, &read.topic, read.partition, read.offset);
        let consumer = self.projection.name();
        match waiting_for {
            Some(_) => tracing::info!(consumer, topic, partition, offset, error, "a record waits"),
            None => warn!(
                consumer,
                topic, partition, offset, error, "parking a poison record"
            ),
        }
        let headers: serde_json::Map<String, serde_json::Value> = record
            .headers
            .iter()
            .map(|(key, value)| (key.clone(), String::from_utf8_lossy(value).into_owned().into()))
            .collect();
        sqlx::query(
            r#"INSERT INTO dead_letters (consumer, topic, partition, "offset", record_key, headers, payload, error,
                                        event_id, stream_id, stream_version, waiting_for)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
               ON CONFLICT (consumer, topic, partition, "offset")
               DO UPDATE SET error = EXCLUDED.error, waiting_for = EXCLUDED.waiting_for"#,
        )
        .bind(consumer)
        .bind(topic)
        .bind(partition)
        .bind(offset)
        .bind(record.key.as_bytes())
        .bind(serde_json::Value::Object(headers))
        .bind(&record.value)
        .bind(error)
        .bind(envelope.map(|envelope| envelope.event_id))
        .bind(envelope.map(|envelope| envelope.stream_id.as_str()))
        .bind(envelope.map(|envelope| envelope.stream_version))
        .bind(waiting_for)
        .execute(tx)
        .await?;
        Ok(if waiting_for.is_some() {
            Outcome::Waiting
        } else {
            Outcome::Parked
        })
    }

    /// Tries every parked record of this consumer again and forgets those that now apply. A record
    /// is often parked for "not yet" rather than "never": a school this service's tenancy does not
    /// list yet, an event type or version this build does not know yet. Both change only when the
    /// service is restarted with a new tenancy or a new build, so every start re-drives; what still
    /// fails stays parked with its reason.
    async fn redrive_parked(&self, shutdown: &CancellationToken) -> Result<(), ConsumerError> {
        let parked = self.parked_records(&self.pool, None).await?;
        let mut left = parked.len();
        for chunk in parked.chunks(MAX_BATCH) {
            let Some(outcomes) = self.handle_until_done(chunk, Applier::Live, shutdown).await else {
                return Ok(());
            };
            left -= outcomes
                .iter()
                .filter(|outcome| matches!(outcome, Outcome::Applied | Outcome::Duplicate))
                .count();
        }
        if !parked.is_empty() {
            tracing::info!(
                consumer = self.projection.name(),
                parked = parked.len(),
                left,
                "re-drove parked records"
            );
        }
        Ok(())
    }

    /// This consumer's parked records, each stream's in version order: all of them, or those waiting
    /// in `streams`.
    async fn parked_records<'c, E: sqlx::PgExecutor<'c>>(
        &self,
        conn: E,
        streams: Option<&[String]>,
    ) -> Result<Vec<Read>, sqlx::Error> {
        let rows: Vec<ParkedRow> = sqlx::query_as(
            r#"SELECT id, topic, partition, "offset", record_key, headers, payload, waiting_for IS NOT NULL
                 FROM dead_letters
                WHERE consumer = $1 AND ($2::text[] IS NULL OR (stream_id = ANY($2) AND waiting_for IS NOT NULL))
                ORDER BY stream_version NULLS FIRST, id"#,
        )
        .bind(self.projection.name())
        .bind(streams)
        .fetch_all(conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, topic, partition, offset, key, headers, payload, waiting)| Read {
                    record: KafkaRecord {
                        key: String::from_utf8_lossy(key.as_deref().unwrap_or_default()).into_owned(),
                        headers: headers
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(|(key, value)| {
                                (
                                    key.clone(),
                                    value.as_str().unwrap_or_default().as_bytes().to_vec(),
                                )
                            })
                            .collect(),
                        value: payload.unwrap_or_default(),
                    },
                    topic,
                    partition,
                    offset,
                    parked: Some(Parked { id, waiting }),
                },
            )
            .collect())
    }

    /// Rebuilds the read model if a migration asked for it (`rebuilds`) and no other process has
    /// done so meanwhile: consumers that ran before stream positions were kept learn them so.
    async fn rebuild_if_asked(&self) -> Result<(), ConsumerError> {
        if !self.rebuild_asked().await? {
            return Ok(());
        }
        let rebuild = self.start_rebuild().await?;
        // Another process of this service may have run it while this one waited for the lock.
        if !self.rebuild_asked().await? {
            return Ok(rebuild.abandon().await?);
        }
        warn!(consumer = self.name(), "rebuilding, as a migration asked");
        let rebuilt = rebuild.finish(|_| {}).await?;
        tracing::info!(consumer = self.name(), events = rebuilt.events, "rebuilt");
        Ok(())
    }

    async fn rebuild_asked(&self) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM rebuilds WHERE consumer = $1)")
            .bind(self.name())
            .fetch_one(&self.pool)
            .await
    }
}

/// Why a projection's panic rejected what it was given.
fn panicked(panic: Box<dyn std::any::Any + Send>) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("the projection panicked: {what}")
}

/// A record as an event of a type the catalog knows.
fn decode(record: &KafkaRecord) -> Result<Envelope, DecodeError> {
    from_kafka(record).and_then(|envelope| match kind_of(&envelope.event_type) {
        Some(_) => Ok(envelope),
        None => Err(DecodeError::UnknownType(envelope.event_type)),
    })
}

/// A `dead_letters` row as read back: id, topic, partition, offset, key, headers, payload, waiting.
type ParkedRow = (
    i64,
    String,
    i32,
    i64,
    Option<Vec<u8>>,
    serde_json::Value,
    Option<Vec<u8>>,
    bool,
);

/// What one record of a batch comes to.
#[derive(Debug)]
enum Plan {
    /// Its stream's next version, or a record parked as poison tried again: its effect, once.
    Apply,
    /// An event this consumer has had (applied, or parked).
    Copy,
    /// A version beyond its stream's next: parked until `waiting_for` has been applied.
    Wait { waiting_for: i64 },
    /// Parked, with why.
    Park(String),
}

/// Who applies a batch: the live consumer, or a rebuild into its fresh tables.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Applier<'a> {
    Live,
    Rebuild { search_path: &'a str },
}

pub(crate) fn fence_key(consumer: &str) -> String {
    format!("trustsafe.rebuild-fence/{consumer}")
}

/// How often librdkafka reports a live consumer's statistics (its lag among them).
const STATISTICS_INTERVAL_MS: &str = "2000";

/// A live consumer's context: its lag, from librdkafka's statistics, becomes a metric.
struct LiveContext {
    consumer: String,
}

impl ClientContext for LiveContext {
    fn stats(&self, statistics: Statistics) {
        for (topic, of_topic) in &statistics.topics {
            // Partition -1 is librdkafka's own bookkeeping; a lag of -1 means not known yet.
            for (partition, figures) in of_topic
                .partitions
                .iter()
                .filter(|(partition, _)| **partition >= 0)
            {
                if figures.consumer_lag >= 0 {
                    metrics::CONSUMER_LAG
                        .with_label_values(&[&self.consumer, topic, &partition.to_string()])
                        .set(figures.consumer_lag);
                }
            }
        }
    }
}

impl ConsumerContext for LiveContext {}

/// The errors a live consumer meets while the broker is away: librdkafka reports them many times a
/// second until it answers again (and recovers by itself), so the first is a warning, the rest are
/// counted, and the end is said once.
struct Failing<'a> {
    consumer: &'a str,
    since: Option<tokio::time::Instant>,
    errors: u64,
}

impl<'a> Failing<'a> {
    fn new(consumer: &'a str) -> Self {
        Self {
            consumer,
            since: None,
            errors: 0,
        }
    }

    fn error(&mut self, err: &KafkaError) {
        self.errors += 1;
        if self.since.is_none() {
            self.since = Some(tokio::time::Instant::now());
            warn!(%err, consumer = self.consumer, "consume error (the next are counted until a record arrives)");
        } else {
            tracing::debug!(%err, consumer = self.consumer, "consume error");
        }
    }

    /// A record arrived.
    fn over(&mut self) {
        if let Some(since) = self.since.take() {
            tracing::info!(
                consumer = self.consumer,
                errors = self.errors,
                seconds = since.elapsed().as_secs_f64(),
                "consuming again"
            );
            self.errors = 0;
        }
    }
}

/// The high watermark of every partition of `topics`: about where a rebuild that starts now will end.
pub(crate) fn end_offsets<C: ConsumerContext, K: rdkafka::consumer::Consumer<C>>(
    consumer: &K,
    topics: &[String],
) -> Result<HashMap<(String, i32), i64>, KafkaError> {
    let timeout = Duration::from_secs(10);
    let mut ends = HashMap::new();
    for topic in topics {
        let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
        for partition in metadata.topics().iter().flat_map(|topic| topic.partitions()) {
            let (_, high) = consumer.fetch_watermarks(topic, partition.id(), timeout)?;
            ends.insert((topic.clone(), partition.id()), high);
        }
    }
    Ok(ends)
}

async fn checkpoint(
    tx: &mut PgConnection,
    consumer: &str,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO consumer_checkpoints (consumer, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
         ON CONFLICT (consumer, topic, partition)
         DO UPDATE SET next_offset = GREATEST(consumer_checkpoints.next_offset, EXCLUDED.next_offset), updated_at = now()",
    )
    .bind(consumer)
    .bind(topic)
    .bind(partition)
    .bind(offset + 1)
    .execute(tx)
    .await?;
    Ok(())
}
