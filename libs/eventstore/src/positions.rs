//! Stream order on the consumer side: how far a consumer has applied each stream, and what a record
//! comes to against that. The log keeps a stream's records in order only as long as its producer
//! did; a relay's retry after a long broker outage, or a stream held at an unpublishable event, can
//! put version 7 on the topic before version 6. A consumer must not apply past the gap.

use std::collections::{HashMap, HashSet};

use sqlx::PgConnection;
use trustsafe_events::Envelope;
use uuid::Uuid;

/// The last version of each stream a consumer has applied (or passed over as poison), for the
/// streams of one batch.
#[derive(Debug, Default)]
pub struct Positions {
    applied: HashMap<String, i64>,
    /// Moved by this batch: saved with it.
    moved: HashSet<String>,
    /// Moved since the waiting records were last looked at.
    unreleased: HashSet<String>,
}

/// Where one record stands against its stream's position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The stream's next version: the position moves to it.
    Next,
    /// A version the consumer has passed: a copy of what it had, or another event claiming it.
    Behind,
    /// Beyond the next version: it waits for `waiting_for`.
    Ahead { waiting_for: i64 },
}

impl Positions {
    /// The positions of the streams of `envelopes` for `consumer`.
    pub async fn load<'a>(
        conn: &mut PgConnection,
        consumer: &str,
        envelopes: impl Iterator<Item = &'a Envelope>,
    ) -> Result<Self, sqlx::Error> {
        let streams: Vec<&str> = envelopes
            .map(|envelope| envelope.stream_id.as_str())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let applied = sqlx::query_as::<_, (String, i64)>(
            "SELECT stream_id, version FROM stream_positions WHERE consumer = $1 AND stream_id = ANY($2)",
        )
        .bind(consumer)
        .bind(&streams)
        .fetch_all(conn)
        .await?
        .into_iter()
        .collect();
        Ok(Self {
            applied,
            ..Self::default()
        })
    }

    /// Places `envelope` against its stream, moving the position when it is the next version.
    pub fn place(&mut self, envelope: &Envelope) -> Place {
        let next = self.applied.get(&envelope.stream_id).copied().unwrap_or(0) + 1;
        match envelope.stream_version {
            version if version == next => {
                self.applied.insert(envelope.stream_id.clone(), version);
                self.moved.insert(envelope.stream_id.clone());
                self.unreleased.insert(envelope.stream_id.clone());
                Place::Next
            }
            version if version < next => Place::Behind,
            _ => Place::Ahead { waiting_for: next },
        }
    }

    /// Streams moved since the last call, whose waiting records may now be next; None when none.
    pub fn take_unreleased(&mut self) -> Option<Vec<String>> {
        (!self.unreleased.is_empty()).then(|| self.unreleased.drain().collect())
    }

    /// Writes the moved positions, in the batch's transaction.
    pub async fn save(&self, conn: &mut PgConnection, consumer: &str) -> Result<(), sqlx::Error> {
        if self.moved.is_empty() {
            return Ok(());
        }
        let (streams, versions): (Vec<&str>, Vec<i64>) = self
            .moved
            .iter()
            .map(|stream| (stream.as_str(), self.applied[stream]))
            .unzip();
        sqlx::query(
            "INSERT INTO stream_positions (consumer, stream_id, version)
             SELECT $1, * FROM unnest($2::text[], $3::bigint[])
             ON CONFLICT (consumer, stream_id)
             DO UPDATE SET version = GREATEST(stream_positions.version, EXCLUDED.version)",
        )
        .bind(consumer)
        .bind(&streams)
        .bind(&versions)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// Which of `ids` this consumer has had: applied, or parked in a row other than `except`.
pub async fn known_events(
    conn: &mut PgConnection,
    consumer: &str,
    ids: &[Uuid],
    except: &[i64],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let known: Vec<Uuid> = sqlx::query_scalar(
        "SELECT event_id FROM processed_events WHERE consumer = $1 AND event_id = ANY($2)
         UNION
         SELECT event_id FROM dead_letters WHERE consumer = $1 AND event_id = ANY($2) AND id <> ALL($3)",
    )
    .bind(consumer)
    .bind(ids)
    .bind(except)
    .fetch_all(conn)
    .await?;
    Ok(known.into_iter().collect())
}
