//! Rebuilding a projection from offset zero beside the live one. The rebuild applies the log into
//! fresh copies of the read model's tables (and of the kit's dedup, position, checkpoint and parking
//! rows) in a schema of its own, while the live consumer goes on keeping the old model current. Once
//! caught up it holds the live consumer back for a moment, applies the records that arrived
//! meanwhile, and swaps the fresh rows in (those that differ) in one transaction: readers see the
//! old model or the new one, never a partial one. A rebuild that dies part-way leaves the live model
//! as it was. Foreign keys between a model's tables must cascade on delete.

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

use crate::consumer::{Applier, Consumer, ConsumerError, Projection, end_offsets, fence_key};
use crate::kafka;

/// The kit's own tables, whose rows of this consumer are rebuilt with its read model, and when a
/// live row is as the fresh one of the same key at the swap. A dedup row keeps the time it was
/// first written; parked records, few and with ids of their own, are replaced whole.
const KIT_TABLES: [(&str, Alike); 4] = [
    ("processed_events", Alike::Columns(&[])),
    ("stream_positions", Alike::Columns(&["version"])),
    ("consumer_checkpoints", Alike::Columns(&["next_offset"])),
    ("dead_letters", Alike::Never),
];

/// The most records a rebuild applies in one transaction: ten times a live batch, since nobody
/// waits on one record, and a transaction's fixed round trips count for less.
const REBUILD_BATCH: usize = 5_000;

/// Records read before the fresh tables' statistics are first gathered.
const FIRST_ANALYSE: u64 = 1_000;

/// Where a rebuild is: records read, of about as many as the topics held when it began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RebuildProgress {
    pub done: u64,
    pub total: u64,
}

/// A finished rebuild: the records it read, how long it spent applying them in PostgreSQL (the rest
/// is reading the log and the swap), and how long the live consumer waited for the swap.
#[derive(Clone, Copy, Debug)]
pub struct Rebuilt {
    pub events: u64,
    pub applying: Duration,
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
    applying: Duration,
    /// When the fresh tables' statistics are next gathered: they grow from nothing, and plans made
    /// for empty tables (a scan of the whole table for each batch's streams) slow a rebuild to a
    /// crawl as they fill.
    analyse_at: u64,
}

impl<P: Projection> Consumer<P> {
    /// Rebuilds the read model from offset zero beside the live consumer and swaps it in.
    ///
    /// It reads outside the projection's consumer group and commits nothing to it: the group's
    /// offsets belong to the live consumer (Apache Kafka refuses a commit from outside a group that
    /// has live members), and they need not move. Records the live consumer has yet to read find
    /// their dedup rows in the swapped-in model, so they change nothing.
    pub async fn rebuild(&self, progress: impl FnMut(RebuildProgress)) -> Result<Rebuilt, ConsumerError> {
        self.start_rebuild().await?.finish(progress).await
    }

    /// The model's tables and the kit's, which a rebuild makes fresh copies of.
    fn rebuilt_tables(&self) -> impl Iterator<Item = &str> {
        let kit = KIT_TABLES.iter().map(|(table, _)| *table);
        self.projection.tables().iter().copied().chain(kit)
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
        // Unlogged: a fresh model is of no use until it is swapped in, so a server crash may lose it
        // (the rebuild dies with the server and starts afresh), and its writes skip the WAL.
        let mut tx = holder.begin().await?;
        sqlx::query(&format!(r#"DROP SCHEMA IF EXISTS "{shadow}" CASCADE"#))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(r#"CREATE SCHEMA "{shadow}""#))
            .execute(&mut *tx)
            .await?;
        for table in self.rebuilt_tables() {
            sqlx::query(&format!(
                r#"CREATE UNLOGGED TABLE "{shadow}"."{table}" (LIKE "{live}"."{table}" INCLUDING ALL)"#
            ))
            .execute(&mut *tx)
            .await?;
            // Only the unique indexes, which a projection's upserts and lookups by key need: the
            // others serve the model's readers, who never read the fresh copy, and each would cost
            // every row written a rebuild.
            let for_readers: Vec<String> = sqlx::query_scalar(
                "SELECT format('%I.%I', $1::text, index.relname)
                   FROM pg_index JOIN pg_class index ON index.oid = pg_index.indexrelid
                  WHERE pg_index.indrelid = format('%I.%I', $1::text, $2::text)::regclass
                    AND NOT pg_index.indisunique",
            )
            .bind(&shadow)
            .bind(table)
            .fetch_all(&mut *tx)
            .await?;
            for index in for_readers {
                sqlx::query(&format!("DROP INDEX {index}"))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(Rebuild {
            consumer: self,
            holder,
            live,
            shadow,
            next: HashMap::new(),
            done: 0,
            applying: Duration::ZERO,
            analyse_at: FIRST_ANALYSE,
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
                    if batch.len() < REBUILD_BATCH {
                        next = reader.recv().now_or_never();
                    }
                }
                if batch.is_empty() {
                    continue;
                }
                let applying = Instant::now();
                consumer.handle_until_done(&batch, by, &never).await;
                self.applying += applying.elapsed();
                for read in &batch {
                    let read_next = self.next.entry((topic.clone(), read.partition)).or_default();
                    *read_next = (*read_next).max(read.offset + 1);
                }
                self.done += batch.len() as u64;
                if self.done >= self.analyse_at {
                    self.analyse().await?;
                }
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

    /// Catches up and swaps in.
    pub async fn finish(mut self, progress: impl FnMut(RebuildProgress)) -> Result<Rebuilt, ConsumerError> {
        self.catch_up(progress).await?;
        self.swap().await
    }

    /// Drops the fresh model unused (and with its connection the rebuild lock).
    pub async fn abandon(mut self) -> Result<(), sqlx::Error> {
        sqlx::query(&format!(r#"DROP SCHEMA "{}" CASCADE"#, self.shadow))
            .execute(&mut self.holder)
            .await?;
        Ok(())
    }

    /// Gathers the fresh tables' statistics, and again when the rebuild has read ten times as much:
    /// in between, the planner scales what it knows by the tables' size on disk.
    async fn analyse(&mut self) -> Result<(), sqlx::Error> {
        for table in self.consumer.rebuilt_tables() {
            sqlx::query(&format!(r#"ANALYZE "{}"."{table}""#, self.shadow))
                .execute(&mut self.holder)
                .await?;
        }
        self.analyse_at = self.done * 10;
        Ok(())
    }

    /// Holds the live consumer back, applies what arrived since the last catch-up, and makes the
    /// live model the fresh one in one transaction, writing only the rows that differ.
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
        // The comparisons hash both sides of a table: room for a large model's in memory.
        sqlx::query("SET LOCAL work_mem = '64MB'")
            .execute(&mut *tx)
            .await?;
        let mut written = Written::default();
        // Parents first: a parent's row goes before its children's are looked at (its cascade
        // takes them) and comes before they come back.
        for table in self.consumer.projection.tables() {
            let model = Replace {
                live,
                shadow,
                table,
                alike: Alike::WholeRow,
                consumer: None,
            };
            written += model.write_changed(&mut tx).await?;
        }
        for (table, alike) in KIT_TABLES {
            let mine = Replace {
                live,
                shadow,
                table,
                alike,
                consumer: Some(&name),
            };
            written += mine.write_changed(&mut tx).await?;
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
            rows_deleted = written.deleted,
            rows_updated = written.updated,
            rows_inserted = written.inserted,
            "rebuilt and swapped in"
        );
        Ok(Rebuilt {
            events: self.done,
            applying: self.applying,
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

/// When a live row is as the fresh row of the same key.
#[derive(Clone, Copy)]
enum Alike {
    /// Every column alike (NULLs alike too, as composite values compare).
    WholeRow,
    /// These columns alike (none: a row of the same key is alike).
    Columns(&'static [&'static str]),
    /// Never: the live rows are replaced whole.
    Never,
}

/// The rows a swap deleted, updated and inserted.
#[derive(Clone, Copy, Default, sqlx::FromRow)]
struct Written {
    deleted: i64,
    updated: i64,
    inserted: i64,
}

impl std::ops::AddAssign for Written {
    fn add_assign(&mut self, other: Written) {
        self.deleted += other.deleted;
        self.updated += other.updated;
        self.inserted += other.inserted;
    }
}

/// One table's part of the swap, which writes only the rows that differ: a rebuild that changes
/// little writes little (and fires few foreign-key checks), and the live consumer waits for one
/// comparison of the two tables on their primary key, not a copy.
struct Replace<'a> {
    live: &'a str,
    shadow: &'a str,
    table: &'a str,
    alike: Alike,
    /// Only this consumer's rows, in the kit's shared tables.
    consumer: Option<&'a str>,
}

impl Replace<'_> {
    /// Makes the live rows the fresh ones: deletes those whose key the fresh table lacks, updates
    /// those that are not alike, inserts the fresh rows whose key the live table lacks. A table
    /// without a primary key is keyed by its whole row.
    async fn write_changed(&self, tx: &mut PgConnection) -> Result<Written, sqlx::Error> {
        let Replace {
            live,
            shadow,
            table,
            alike,
            consumer,
        } = *self;
        let live_table = format!(r#""{live}"."{table}""#);
        let fresh_table = format!(r#""{shadow}"."{table}""#);
        let (written, key) = columns(tx, live, table).await?;
        let into = list(&written, |column| column.to_owned(), ", ");
        let from = list(&written, |column| format!("n.{column}"), ", ");
        let (live_rows, live_row) = match consumer {
            Some(_) => (
                format!("(SELECT ctid AS row_id, * FROM {live_table} WHERE consumer = $1) t"),
                "t.row_id",
            ),
            None => (format!("{live_table} t"), "t.ctid"),
        };
        let differ = match alike {
            Alike::Never => {
                return self
                    .replace_whole(tx, &live_table, &fresh_table, &into, &from)
                    .await;
            }
            _ if key.is_empty() => "false".to_owned(),
            Alike::WholeRow => "t.* <> n.*".to_owned(),
            Alike::Columns([]) => "false".to_owned(),
            Alike::Columns(compared) => format!(
                "({}) IS DISTINCT FROM ({})",
                list(compared, |column| format!("t.{column}"), ", "),
                list(compared, |column| format!("n.{column}"), ", ")
            ),
        };
        let on = match key.is_empty() {
            true => "t.* = n.*".to_owned(),
            false => list(&key, |column| format!("t.{column} = n.{column}"), " AND "),
        };
        let rest: Vec<&String> = written.iter().filter(|column| !key.contains(column)).collect();
        // Rows whose key both tables hold but which differ take the fresh values (a table without
        // a key, or of nothing but its key, has none).
        let changed = match key.is_empty() || rest.is_empty() {
            true => "SELECT 1 WHERE false".to_owned(),
            false => format!(
                "UPDATE {live_table} t SET {} FROM {fresh_table} n
                  WHERE t.ctid = ANY (ARRAY(SELECT live_row FROM diff WHERE fresh_row IS NOT NULL)) AND {on}
                  RETURNING 1",
                list(&rest, |column| format!("{column} = n.{column}"), ", ")
            ),
        };
        // One comparison of the two tables, then the rows that differ found where they lie.
        let sql = format!(
            "WITH diff AS MATERIALIZED (
                 SELECT {live_row} AS live_row, n.ctid AS fresh_row
                   FROM {live_rows} FULL JOIN {fresh_table} n ON {on}
                  WHERE {live_row} IS NULL OR n.ctid IS NULL OR {differ}
             ),
             gone AS (DELETE FROM {live_table}
                       WHERE ctid = ANY (ARRAY(SELECT live_row FROM diff WHERE fresh_row IS NULL)) RETURNING 1),
             changed AS ({changed}),
             new AS (INSERT INTO {live_table} ({into}) SELECT {from} FROM {fresh_table} n
                      WHERE n.ctid = ANY (ARRAY(SELECT fresh_row FROM diff WHERE live_row IS NULL)) RETURNING 1)
             SELECT (SELECT count(*) FROM gone) AS deleted, (SELECT count(*) FROM changed) AS updated,
                    (SELECT count(*) FROM new) AS inserted"
        );
        let query = sqlx::query_as(&sql);
        match consumer {
            Some(consumer) => query.bind(consumer),
            None => query,
        }
        .fetch_one(&mut *tx)
        .await
    }

    /// Deletes every live row of the consumer and inserts every fresh one, in two statements: the
    /// deleted rows may share a unique key with the inserted ones.
    async fn replace_whole(
        &self,
        tx: &mut PgConnection,
        live_table: &str,
        fresh_table: &str,
        into: &str,
        from: &str,
    ) -> Result<Written, sqlx::Error> {
        let sql = format!("DELETE FROM {live_table} WHERE consumer = $1");
        let deleted = sqlx::query(&sql).bind(self.consumer).execute(&mut *tx).await?;
        let sql = format!("INSERT INTO {live_table} ({into}) SELECT {from} FROM {fresh_table} n");
        let inserted = sqlx::query(&sql).execute(&mut *tx).await?;
        Ok(Written {
            deleted: deleted.rows_affected() as i64,
            updated: 0,
            inserted: inserted.rows_affected() as i64,
        })
    }
}

/// A table's columns a row is written with (identity and generated columns take their own
/// values), quoted, and those of its primary key.
async fn columns(
    tx: &mut PgConnection,
    schema: &str,
    table: &str,
) -> Result<(Vec<String>, Vec<String>), sqlx::Error> {
    let columns: Vec<(String, bool)> = sqlx::query_as(
        "SELECT quote_ident(a.attname), coalesce(a.attnum = ANY (i.indkey), false)
           FROM pg_attribute a
           LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
          WHERE a.attrelid = format('%I.%I', $1::text, $2::text)::regclass
            AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = '' AND a.attgenerated = ''
          ORDER BY a.attnum",
    )
    .bind(schema)
    .bind(table)
    .fetch_all(tx)
    .await?;
    let key = columns
        .iter()
        .filter(|(_, in_key)| *in_key)
        .map(|(column, _)| column.clone())
        .collect();
    Ok((columns.into_iter().map(|(column, _)| column).collect(), key))
}

/// Each column made into an item of an SQL list.
fn list<C: AsRef<str>>(columns: &[C], item: impl Fn(&str) -> String, separator: &str) -> String {
    columns
        .iter()
        .map(|column| item(column.as_ref()))
        .collect::<Vec<_>>()
        .join(separator)
}
