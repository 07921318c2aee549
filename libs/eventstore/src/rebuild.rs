//! Rebuilding a projection from offset zero beside the live one. The rebuild applies the log into
//! fresh copies of the read model's tables (and of the kit's dedup, position, checkpoint and parking
//! rows) in a schema of its own, while the live consumer goes on keeping the old model current. Once
//! caught up it holds the live consumer back for a moment, applies the records that arrived
//! meanwhile, and swaps the rows in, in one transaction: readers see the old model or the new one,
//! never a partial one. A rebuild that dies part-way leaves the live model as it was.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use rdkafka::Offset;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::topic_partition_list::TopicPartitionList;
use sqlx::{Connection as _, PgConnection};
use tokio_util::sync::CancellationToken;

use crate::consumer::{Applier, Consumer, ConsumerError, MAX_BATCH, Projection, end_offsets, fence_key};
use crate::kafka;

/// The kit's own tables, whose rows of this consumer are rebuilt with its read model.
const KIT_TABLES: [&str; 4] = [
    "processed_events",
    "stream_positions",
    "consumer_checkpoints",
    "dead_letters",
];

/// Where a rebuild is: records read, of about as many as the topics held when it began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RebuildProgress {
    pub done: u64,
    pub total: u64,
}

/// A finished rebuild: the records it read, and how long the live consumer waited for the swap.
#[derive(Clone, Copy, Debug)]
pub struct Rebuilt {
    pub events: u64,
    pub held: Duration,
}

/// A rebuild under way: its fresh model fills in `shadow` while the live one is served from `live`.
pub struct Rebuild<'c, P> {
    consumer: &'c Consumer<P>,
    /// Holds the projection's rebuild lock for the whole run (one rebuild at a time), and the fence
    /// against live batches during the swap; a rebuild that dies drops both with its connection.
    holder: PgConnection,
    live: String,
    shadow: String,
    /// The next offset to read of each partition (broker topic, partition).
    next: HashMap<(String, i32), i64>,
    done: u64,
}

impl<P: Projection> Consumer<P> {
    /// Rebuilds the read model from offset zero beside the live consumer and swaps it in.
    ///
    /// It reads outside the projection's consumer group and commits nothing to it: the group's
    /// offsets belong to the live consumer (Apache Kafka refuses a commit from outside a group that
    /// has live members), and they need not move. Records the live consumer has yet to read find
    /// their dedup rows in the swapped-in model, so they change nothing.
    pub async fn rebuild(&self, progress: impl FnMut(RebuildProgress)) -> Result<Rebuilt, ConsumerError> {
        let mut rebuild = self.start_rebuild().await?;
        rebuild.catch_up(progress).await?;
        rebuild.swap().await
    }

    /// Takes the projection's rebuild lock (waiting for another rebuild to end) and makes the fresh,
    /// empty model, dropping what a rebuild that died part-way left.
    pub async fn start_rebuild(&self) -> Result<Rebuild<'_, P>, ConsumerError> {
        let mut holder = PgConnection::connect_with(&self.pool.connect_options()).await?;
        sqlx::query("SELECT pg_advisory_lock(hashtextextended($1, 0))")
            .bind(format!("trustsafe.rebuild/{}", self.name()))
            .execute(&mut holder)
            .await?;
        let live: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&mut holder)
            .await?;
        let shadow = shadow_schema(self.name());
        let mut tx = holder.begin().await?;
        sqlx::query(&format!(r#"DROP SCHEMA IF EXISTS "{shadow}" CASCADE"#))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(r#"CREATE SCHEMA "{shadow}""#))
            .execute(&mut *tx)
            .await?;
        for table in self.projection.tables().iter().chain(&KIT_TABLES) {
            sqlx::query(&format!(
                r#"CREATE TABLE "{shadow}"."{table}" (LIKE "{live}"."{table}" INCLUDING ALL)"#
            ))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Rebuild {
            consumer: self,
            holder,
            live,
            shadow,
            next: HashMap::new(),
            done: 0,
        })
    }
}

impl<P: Projection> Rebuild<'_, P> {
    /// Applies every record from where this rebuild has read to the end of each partition as it is
    /// now, into the fresh model; the records it read.
    ///
    /// A partition is done at its end-of-partition event, not at its high watermark: tansu 0.6's
    /// memory engine reports the watermark as the last batch's first offset + 1, short of the end
    /// whenever that batch held several records. Watermarks only size the progress report.
    pub async fn catch_up(
        &mut self,
        mut progress: impl FnMut(RebuildProgress),
    ) -> Result<u64, ConsumerError> {
        let consumer = self.consumer;
        // A client of its own each time: its end-of-partition events are those of this pass.
        let reader: kafka::OffRuntime<Arc<StreamConsumer<kafka::ReadToEnd>>> =
            kafka::OffRuntime::new(Arc::new(
                consumer
                    .config
                    .log
                    .consumer(&format!("{}.rebuild", consumer.name()))
                    .set("enable.auto.commit", "false")
                    .set("enable.partition.eof", "true")
                    .create_with_context(kafka::ReadToEnd)?,
            ));
        let topics = consumer.broker_topics();
        let ends = {
            let (client, topics) = (Arc::clone(&reader), topics.clone());
            tokio::task::spawn_blocking(move || end_offsets(&*client, &topics))
                .await
                .expect("watermark lookup does not panic")?
        };
        let mut total: u64 = ends.values().map(|end| *end as u64).sum::<u64>().max(self.done);
        let started = self.done;
        progress(RebuildProgress {
            done: self.done,
            total,
        });
        let search_path = format!(r#""{}", "{}""#, self.shadow, self.live);
        let by = Applier::Rebuild {
            search_path: &search_path,
        };
        let never = CancellationToken::new();
        // One topic at a time: an end-of-partition event names the partition but not its topic.
        for topic in &topics {
            let mut assignment = TopicPartitionList::new();
            let mut open = HashSet::new();
            for (_, partition) in ends.keys().filter(|(of, _)| of == topic) {
                let from = match self.next.get(&(topic.clone(), *partition)) {
                    Some(next) => Offset::Offset(*next),
                    None => Offset::Beginning,
                };
                assignment.add_partition_offset(topic, *partition, from)?;
                open.insert(*partition);
            }
            reader.assign(&assignment)?;
            while !open.is_empty() {
                let mut batch = Vec::new();
                let mut next = Some(reader.recv().await);
                while let Some(message) = next.take() {
                    match message {
                        Err(KafkaError::PartitionEOF(partition)) => {
                            open.remove(&partition);
                            break;
                        }
                        other => batch.push(consumer.read(&other?)),
                    }
                    if batch.len() < MAX_BATCH {
                        next = reader.recv().now_or_never();
                    }
                }
                if batch.is_empty() {
                    continue;
                }
                consumer.handle_until_done(&batch, by, &never).await;
                for read in &batch {
                    let read_next = self.next.entry((topic.clone(), read.partition)).or_default();
                    *read_next = (*read_next).max(read.offset + 1);
                }
                self.done += batch.len() as u64;
                total = total.max(self.done);
                progress(RebuildProgress {
                    done: self.done,
                    total,
                });
            }
        }
        reader.close().await;
        progress(RebuildProgress {
            done: self.done,
            total: self.done,
        });
        Ok(self.done - started)
    }

    /// Holds the live consumer back, applies what arrived since the last catch-up, and puts the
    /// fresh model's rows in place of the live ones in one transaction.
    pub async fn swap(mut self) -> Result<Rebuilt, ConsumerError> {
        let name = self.consumer.name().to_owned();
        // Exclusive against the live batches, which take it shared: those in flight commit first
        // (their records are in the log, so the catch-up below applies them too), later ones wait.
        sqlx::query("SELECT pg_advisory_lock(hashtextextended($1, 0))")
            .bind(fence_key(&name))
            .execute(&mut self.holder)
            .await?;
        let held = Instant::now();
        self.catch_up(|_| {}).await?;
        let (live, shadow) = (&self.live, &self.shadow);
        let mut tx = self.holder.begin().await?;
        let tables = self.consumer.projection.tables();
        // Children before parents out, parents before children in.
        for table in tables.iter().rev() {
            sqlx::query(&format!(r#"DELETE FROM "{live}"."{table}""#))
                .execute(&mut *tx)
                .await?;
        }
        for table in tables {
            copy_rows(&mut tx, shadow, live, table).await?;
        }
        for table in KIT_TABLES {
            sqlx::query(&format!(r#"DELETE FROM "{live}"."{table}" WHERE consumer = $1"#))
                .bind(&name)
                .execute(&mut *tx)
                .await?;
            copy_rows(&mut tx, shadow, live, table).await?;
        }
        sqlx::query("DELETE FROM rebuilds WHERE consumer = $1")
            .bind(&name)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(r#"DROP SCHEMA "{shadow}" CASCADE"#))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let held = held.elapsed();
        sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 0))")
            .bind(fence_key(&name))
            .execute(&mut self.holder)
            .await?;
        tracing::info!(
            consumer = name,
            events = self.done,
            held_ms = held.as_millis() as u64,
            "rebuilt and swapped in"
        );
        Ok(Rebuilt {
            events: self.done,
            held,
        })
    }
}

/// The schema a projection's fresh model is rebuilt in.
fn shadow_schema(consumer: &str) -> String {
    let safe: String = consumer
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("rebuild_{safe}").chars().take(63).collect()
}

/// Every row of `from`.`table` into `to`.`table`, by column name; identity columns take fresh values
/// there (a parked record's id in the shared `dead_letters`).
async fn copy_rows(tx: &mut PgConnection, from: &str, to: &str, table: &str) -> Result<(), sqlx::Error> {
    let columns: String = sqlx::query_scalar(
        "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
           FROM information_schema.columns
          WHERE table_schema = $1 AND table_name = $2 AND is_identity = 'NO' AND is_generated = 'NEVER'",
    )
    .bind(to)
    .bind(table)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(&format!(
        r#"INSERT INTO "{to}"."{table}" ({columns}) SELECT {columns} FROM "{from}"."{table}""#
    ))
    .execute(tx)
    .await?;
    Ok(())
}
