//! Appending to and loading streams. Each append writes its outbox rows in the same transaction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection, PgPool, Row, postgres::PgRow};
use trustsafe_events::{Actor, Envelope, Event, TraceContext};
use uuid::Uuid;

use crate::{AppendError, StoreError};

/// What the caller believes the stream's current version to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last event must have this version.
    Exactly(i64),
    /// Whatever it is (for streams with one writer, such as an audit trail).
    Any,
}

/// An event about to be appended.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub topic: String,
    pub occurred_at: DateTime<Utc>,
    pub data: serde_json::Value,
}

impl NewEvent {
    /// A typed event, with a fresh UUIDv7 id.
    pub fn new<E: Event>(event: &E, occurred_at: DateTime<Utc>) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            event_type: E::TYPE.to_owned(),
            topic: E::TOPIC.to_owned(),
            occurred_at,
            data: serde_json::to_value(event).expect("event payloads serialise to JSON"),
        }
    }
}

/// One event for one stream of a [`EventStore::append_each`], to land at the version after `expected`.
#[derive(Clone, Debug)]
pub struct StreamEvent {
    pub stream_id: String,
    pub expected: i64,
    pub event: NewEvent,
}

/// What is true of every event of one append: whose stream it is, who caused it and why.
#[derive(Clone, Debug)]
pub struct AppendContext {
    pub trust_id: String,
    pub school_id: Option<String>,
    pub actor: Actor,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
}

/// The versions an append was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub first_version: i64,
    pub last_version: i64,
}

#[derive(Serialize, Deserialize)]
struct Metadata {
    actor: Actor,
    correlation_id: Uuid,
    #[serde(default)]
    causation_id: Option<Uuid>,
    #[serde(default)]
    trace: TraceContext,
}

/// One service's event store. `source` names the service in CloudEvents (`/trustsafe/incident`).
#[derive(Clone, Debug)]
pub struct EventStore {
    pool: PgPool,
    source: String,
}

/// Postgres' unique_violation.
const UNIQUE_VIOLATION: &str = "23505";

impl EventStore {
    pub fn new(pool: PgPool, source: impl Into<String>) -> Self {
        Self {
            pool,
            source: source.into(),
        }
    }

    /// Creates or upgrades the store's tables. A service keeps its own tables beside them with its
    /// own migrations, numbered apart (from 1001), so each migrator passes over the other's.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut migrator = sqlx::migrate!("./migrations");
        migrator.set_ignore_missing(true);
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Appends `events` to `stream_id`: one statement, atomic on its own.
    ///
    /// A retry with the same event ids writes nothing and answers as the first call did, so a caller
    /// that lost the answer (a timeout, a crash) can simply try again.
    pub async fn append(
        &self,
        stream_id: &str,
        expected: ExpectedVersion,
        context: &AppendContext,
        events: &[NewEvent],
    ) -> Result<Appended, AppendError> {
        let mut conn = self.pool.acquire().await.map_err(StoreError::from)?;
        self.append_in(&mut conn, stream_id, expected, context, events)
            .await
    }

    /// Appends on the caller's connection, which may be inside its transaction, so a service can
    /// write other rows (an idempotency record, say) atomically with its events. The events are
    /// published once that transaction commits.
    pub async fn append_in(
        &self,
        conn: &mut PgConnection,
        stream_id: &str,
        expected: ExpectedVersion,
        context: &AppendContext,
        events: &[NewEvent],
    ) -> Result<Appended, AppendError> {
        if events.is_empty() {
            return Err(AppendError::Empty);
        }
        let metadata = Metadata {
            actor: context.actor.clone(),
            correlation_id: context.correlation_id,
            causation_id: context.causation_id,
            trace: trace_context_of_current_span(),
        };
        let metadata = serde_json::to_value(&metadata).expect("metadata serialises");
        let expected_version = match expected {
            ExpectedVersion::NoStream => Some(0),
            ExpectedVersion::Exactly(version) => Some(version),
            ExpectedVersion::Any => None,
        };
        let ids: Vec<Uuid> = events.iter().map(|event| event.event_id).collect();
        let types: Vec<&str> = events.iter().map(|event| event.event_type.as_str()).collect();
        let topics: Vec<&str> = events.iter().map(|event| event.topic.as_str()).collect();
        let occurred: Vec<DateTime<Utc>> = events.iter().map(|event| event.occurred_at).collect();
        let data: Vec<&serde_json::Value> = events.iter().map(|event| &event.data).collect();

        let insert = Insert {
            ids: &ids,
            stream_id,
            context,
            metadata: &metadata,
            types: &types,
            occurred: &occurred,
            data: &data,
            topics: &topics,
            expected_version,
        };
        let written = match expected {
            ExpectedVersion::Any => insert_at_any_version(conn, &insert).await,
            _ => insert.run(conn).await,
        };

        let current = match written.map_err(StoreError::from) {
            Ok((current, appended)) if appended == events.len() as i64 => {
                return Ok(Appended {
                    first_version: current + 1,
                    last_version: current + appended,
                });
            }
            Ok((current, _)) => current,
            // Inside a caller's transaction the failed statement has aborted it: nothing more can
            // be read on it, so report the conflict as it stands.
            Err(StoreError::Unique) if conn.is_in_transaction() => {
                return Err(AppendError::Conflict {
                    stream_id: stream_id.to_owned(),
                    expected,
                    actual: -1,
                });
            }
            Err(StoreError::Unique) => version_on(conn, stream_id).await?,
            Err(err) => return Err(err.into()),
        };
        // Nothing was written. The same append, retried, answers as it did; else it is a conflict.
        if let Some(appended) = already_appended(conn, stream_id, events).await? {
            return Ok(appended);
        }
        Err(AppendError::Conflict {
            stream_id: stream_id.to_owned(),
            expected,
            actual: current,
        })
    }

    /// Appends one event to each of many streams in one statement, all or none, with their outbox
    /// rows: what a roster sync of thousands of people needs (one append each would be thousands of
    /// round trips). Each lands at its `expected + 1`; if any stream is not at its `expected`,
    /// nothing is written and the answer is a conflict naming one such stream.
    pub async fn append_each(
        &self,
        conn: &mut PgConnection,
        context: &AppendContext,
        appends: &[StreamEvent],
    ) -> Result<(), AppendError> {
        if appends.is_empty() {
            return Ok(());
        }
        let metadata = serde_json::to_value(Metadata {
            actor: context.actor.clone(),
            correlation_id: context.correlation_id,
            causation_id: context.causation_id,
            trace: trace_context_of_current_span(),
        })
        .expect("metadata serialises");
        let column = |field: fn(&StreamEvent) -> &str| appends.iter().map(field).collect::<Vec<_>>();
        let ids: Vec<Uuid> = appends.iter().map(|append| append.event.event_id).collect();
        let versions: Vec<i64> = appends.iter().map(|append| append.expected + 1).collect();
        let occurred: Vec<DateTime<Utc>> = appends.iter().map(|append| append.event.occurred_at).collect();
        let data: Vec<&serde_json::Value> = appends.iter().map(|append| &append.event.data).collect();
        let (moved, written): (Option<String>, i64) = sqlx::query_as(
            "WITH new AS (
                 SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::bigint[], $4::text[], $5::timestamptz[],
                                      $6::jsonb[], $7::text[])
                            AS new(id, stream_id, version, event_type, occurred_at, data, topic)
             ),
             moved AS (
                 SELECT new.stream_id FROM new
                  WHERE (SELECT COALESCE(MAX(e.stream_version), 0) FROM events e
                          WHERE e.stream_id = new.stream_id) <> new.version - 1
                  LIMIT 1
             ),
             new_events AS (
                 INSERT INTO events (event_id, stream_id, stream_version, event_type, trust_id,
                                     school_id, occurred_at, metadata, data)
                 SELECT new.id, new.stream_id, new.version, new.event_type, $8, $9, new.occurred_at, $10,
                        new.data
                   FROM new
                  WHERE NOT EXISTS (SELECT 1 FROM moved)
                 RETURNING global_position, event_id
             ),
             new_outbox AS (
                 INSERT INTO outbox (global_position, topic)
                 SELECT new_events.global_position, new.topic
                   FROM new_events JOIN new ON new.id = new_events.event_id
                 RETURNING 1
             )
             SELECT (SELECT stream_id FROM moved), (SELECT count(*) FROM new_outbox)",
        )
        .bind(&ids)
        .bind(column(|append| &append.stream_id))
        .bind(&versions)
        .bind(column(|append| &append.event.event_type))
        .bind(&occurred)
        .bind(&data)
        .bind(column(|append| &append.event.topic))
        .bind(&context.trust_id)
        .bind(&context.school_id)
        .bind(&metadata)
        .fetch_one(conn)
        .await
        .map_err(StoreError::from)?;
        match moved {
            Some(stream_id) => {
                let expected = appends
                    .iter()
                    .find(|append| append.stream_id == stream_id)
                    .map_or(0, |append| append.expected);
                Err(AppendError::Conflict {
                    stream_id,
                    expected: ExpectedVersion::Exactly(expected),
                    actual: -1,
                })
            }
            None if written == appends.len() as i64 => Ok(()),
            None => Err(StoreError::Corrupt(format!("{written} of {} events written", appends.len())).into()),
        }
    }

    /// The stream's current version; 0 when it has no events.
    pub async fn version(&self, stream_id: &str) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        version_on(&mut conn, stream_id).await
    }

    /// Every event of a stream, in version order. An unknown stream is an empty list.
    pub async fn load(&self, stream_id: &str) -> Result<Vec<Envelope>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ENVELOPE_COLUMNS} FROM events e WHERE e.stream_id = $1 ORDER BY e.stream_version"
        ))
        .bind(stream_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| envelope_from_row(row, &self.source))
            .collect()
    }
}

/// The earlier answer when every one of these event ids is already in this stream. Some of them
/// present, or present in another stream, is a misuse of ids that must not pass silently.
async fn already_appended(
    conn: &mut PgConnection,
    stream_id: &str,
    events: &[NewEvent],
) -> Result<Option<Appended>, AppendError> {
    let ids: Vec<Uuid> = events.iter().map(|event| event.event_id).collect();
    let found: Vec<(String, i64)> =
        sqlx::query_as("SELECT stream_id, stream_version FROM events WHERE event_id = ANY($1)")
            .bind(&ids)
            .fetch_all(conn)
            .await
            .map_err(StoreError::from)?;
    if found.is_empty() {
        return Ok(None);
    }
    if found.len() != ids.len() || found.iter().any(|(stream, _)| stream != stream_id) {
        return Err(AppendError::EventIdReused {
            stream_id: stream_id.to_owned(),
        });
    }
    let versions = found.iter().map(|(_, version)| *version);
    Ok(Some(Appended {
        first_version: versions.clone().min().unwrap_or_default(),
        last_version: versions.max().unwrap_or_default(),
    }))
}

async fn version_on(conn: &mut PgConnection, stream_id: &str) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = $1")
            .bind(stream_id)
            .fetch_one(conn)
            .await?,
    )
}

/// The columns an envelope is read from, of `events e`.
pub(crate) const ENVELOPE_COLUMNS: &str = "e.event_id, e.event_type, e.stream_id, e.stream_version, e.trust_id, \
     e.school_id, e.occurred_at, e.recorded_at, e.metadata, e.data";

pub(crate) fn envelope_from_row(row: &PgRow, source: &str) -> Result<Envelope, StoreError> {
    let metadata: Metadata = serde_json::from_value(row.try_get("metadata")?)
        .map_err(|err| StoreError::Corrupt(format!("event metadata: {err}")))?;
    Ok(Envelope {
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        source: source.to_owned(),
        stream_id: row.try_get("stream_id")?,
        stream_version: row.try_get("stream_version")?,
        trust_id: row.try_get("trust_id")?,
        school_id: row.try_get("school_id")?,
        occurred_at: row.try_get("occurred_at")?,
        recorded_at: row.try_get("recorded_at")?,
        actor: metadata.actor,
        correlation_id: metadata.correlation_id,
        causation_id: metadata.causation_id,
        trace: metadata.trace,
        data: row.try_get("data")?,
    })
}

fn trace_context_of_current_span() -> TraceContext {
    let mut headers = trustsafe_telemetry::current_trace_headers();
    TraceContext {
        traceparent: headers.remove("traceparent"),
        tracestate: headers.remove("tracestate"),
    }
}

/// One append's rows, bound to the one statement that writes them.
struct Insert<'a> {
    ids: &'a [Uuid],
    stream_id: &'a str,
    context: &'a AppendContext,
    metadata: &'a serde_json::Value,
    types: &'a [&'a str],
    occurred: &'a [DateTime<Utc>],
    data: &'a [&'a serde_json::Value],
    topics: &'a [&'a str],
    expected_version: Option<i64>,
}

impl Insert<'_> {
    /// One round trip: read the stream's version, insert the events only if it is the expected one,
    /// and their outbox rows with them; the version found and the rows written. A racing writer of
    /// the same version hits the unique key (stream_id, stream_version).
    async fn run(&self, conn: &mut PgConnection) -> Result<(i64, i64), sqlx::Error> {
        sqlx::query_as(
            "WITH current AS (
                 SELECT COALESCE(MAX(stream_version), 0) AS version FROM events WHERE stream_id = $2
             ),
             new_events AS (
                 INSERT INTO events (event_id, stream_id, stream_version, event_type, trust_id,
                                     school_id, occurred_at, metadata, data)
                 SELECT new.id, $2, current.version + new.n, new.event_type, $3, $4,
                        new.occurred_at, $5, new.data
                   FROM current,
                        UNNEST($1::uuid[], $6::text[], $7::timestamptz[], $8::jsonb[])
                            WITH ORDINALITY AS new(id, event_type, occurred_at, data, n)
                  WHERE $10::bigint IS NULL OR current.version = $10
                 RETURNING global_position, event_id
             ),
             new_outbox AS (
                 INSERT INTO outbox (global_position, topic)
                 SELECT new_events.global_position, t.topic
                   FROM new_events
                   JOIN UNNEST($1::uuid[], $9::text[]) AS t(id, topic) ON t.id = new_events.event_id
                 RETURNING 1
             )
             SELECT (SELECT version FROM current), (SELECT count(*) FROM new_outbox)",
        )
        .bind(self.ids)
        .bind(self.stream_id)
        .bind(&self.context.trust_id)
        .bind(&self.context.school_id)
        .bind(self.metadata)
        .bind(self.types)
        .bind(self.occurred)
        .bind(self.data)
        .bind(self.topics)
        .bind(self.expected_version)
        .fetch_one(conn)
        .await
    }
}

/// Appends that expect no particular version (the audit of a read) race one another on a stream
/// when two people read the same record at once: the later insert waits for the earlier's commit,
/// then hits the unique key. It tries again at the version the earlier left, inside a savepoint so
/// that the caller's transaction survives the failed attempt. Without this, a DSL and a deputy
/// opening the same list at the same moment got a 409.
async fn insert_at_any_version(
    conn: &mut PgConnection,
    insert: &Insert<'_>,
) -> Result<(i64, i64), sqlx::Error> {
    const ATTEMPTS: usize = 20;
    for attempt in 1..=ATTEMPTS {
        let mut savepoint = conn.begin().await?;
        match insert.run(&mut savepoint).await {
            Ok(written) => {
                savepoint.commit().await?;
                return Ok(written);
            }
            Err(err) if attempt < ATTEMPTS && is_unique(&err) => {
                savepoint.rollback().await?;
            }
            Err(err) => return Err(err),
        }
    }
    unreachable!("the last attempt returns")
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if is_unique(&err) {
            StoreError::Unique
        } else {
            StoreError::Database(err)
        }
    }
}

fn is_unique(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some(UNIQUE_VIOLATION))
}
