//! The roster: each person's stream, and the `people` table kept in step with it
//! (migrations/1001_people.sql).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Row};
use trustsafe_events::Envelope;
use trustsafe_events::aup::{PersonRecorded, RosterKind};
use trustsafe_eventstore::{AppendContext, AppendError, EventStore, NewEvent, StoreError, StreamEvent};
use uuid::Uuid;

fn person_stream(id: Uuid) -> String {
    format!("person-{id}")
}

/// A person as the `people` table holds them.
#[derive(Clone, Debug)]
pub struct StoredPerson {
    pub id: Uuid,
    pub record: PersonRecorded,
    pub removed: bool,
    pub version: i64,
}

/// A person's row after a sync, and the event that made it (none when only `as_of` moved on).
pub struct Saved {
    pub person: StoredPerson,
    pub event: Option<NewEvent>,
}

/// Which people a list shows, after which cursor.
#[derive(Clone, Debug, Default)]
pub struct PeopleFilter {
    pub kind: Option<RosterKind>,
    pub year_group: Option<i8>,
    /// Part of a surname or forename.
    pub name: Option<String>,
    pub include_removed: bool,
    /// The last person of the previous page: a name never travels in a URL.
    pub after: Option<Uuid>,
    pub limit: i64,
}

#[derive(Clone)]
pub struct PeopleStore {
    events: EventStore,
}

fn kind_text(kind: RosterKind) -> &'static str {
    match kind {
        RosterKind::Pupil => "pupil",
        RosterKind::Staff => "staff",
        RosterKind::Parent => "parent",
    }
}

fn stored(row: &sqlx::postgres::PgRow) -> Result<StoredPerson, StoreError> {
    let record = serde_json::from_value(row.try_get("record")?)
        .map_err(|err| StoreError::Corrupt(format!("a person's record: {err}")))?;
    Ok(StoredPerson {
        id: row.try_get("id")?,
        record,
        removed: row.try_get("removed")?,
        version: row.try_get("version")?,
    })
}

impl PeopleStore {
    pub fn new(events: EventStore) -> Self {
        Self { events }
    }

    pub fn pool(&self) -> &PgPool {
        self.events.pool()
    }

    /// Holds the school's roster until the transaction ends: two syncs of one school take turns, so
    /// each decides on what the other wrote.
    pub async fn lock_roster(&self, tx: &mut PgConnection, school_id: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('roster/' || $1, 0))")
            .bind(school_id)
            .execute(tx)
            .await?;
        Ok(())
    }

    /// The people of `school_id` the roster knows by these (kind, MIS id) pairs, removed or not.
    pub async fn known(
        &self,
        tx: &mut PgConnection,
        school_id: &str,
        keys: &[(RosterKind, String)],
    ) -> Result<HashMap<(RosterKind, String), StoredPerson>, StoreError> {
        let kinds: Vec<&str> = keys.iter().map(|(kind, _)| kind_text(*kind)).collect();
        let ids: Vec<&str> = keys.iter().map(|(_, id)| id.as_str()).collect();
        let rows = sqlx::query(
            "SELECT p.id, p.record, p.removed, p.version
               FROM people p
               JOIN UNNEST($2::text[], $3::text[]) AS k(kind, mis_id)
                 ON p.kind = k.kind AND p.mis_id = k.mis_id
              WHERE p.school_id = $1",
        )
        .bind(school_id)
        .bind(&kinds)
        .bind(&ids)
        .fetch_all(tx)
        .await?;
        rows.iter()
            .map(|row| {
                let person = stored(row)?;
                let key = (person.record.kind, mis_id_of(&person.record));
                Ok((key, person))
            })
            .collect()
    }

    /// Writes a sync's people in one go: their events (one per person who changed) and their rows.
    pub async fn save(
        &self,
        tx: &mut PgConnection,
        context: &AppendContext,
        school_id: &str,
        saved: Vec<Saved>,
    ) -> Result<(), AppendError> {
        let appends: Vec<StreamEvent> = saved
            .iter()
            .filter_map(|saved| {
                Some(StreamEvent {
                    stream_id: person_stream(saved.person.id),
                    expected: saved.person.version - 1,
                    event: saved.event.clone()?,
                })
            })
            .collect();
        self.events.append_each(tx, context, &appends).await?;
        let people: Vec<&StoredPerson> = saved.iter().map(|saved| &saved.person).collect();
        let records = people
            .iter()
            .map(|person| serde_json::to_value(&person.record))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| StoreError::Corrupt(err.to_string()))?;
        let details = |person: &&StoredPerson| person.record.restricted.clone().unwrap_or_default();
        sqlx::query(
            "INSERT INTO people (id, school_id, kind, mis_id, surname, forename, year_group, record,
                                 as_of, removed, version)
             SELECT new.id, $1, new.kind, new.mis_id, new.surname, new.forename, new.year_group,
                    new.record, new.as_of, new.removed, new.version
               FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::smallint[],
                           $8::jsonb[], $9::timestamptz[], $10::bool[], $11::bigint[])
                    AS new(id, kind, mis_id, surname, forename, year_group, record, as_of, removed, version)
             ON CONFLICT (id) DO UPDATE
                SET surname = EXCLUDED.surname, forename = EXCLUDED.forename,
                    year_group = EXCLUDED.year_group, record = EXCLUDED.record, as_of = EXCLUDED.as_of,
                    removed = EXCLUDED.removed, version = EXCLUDED.version",
        )
        .bind(school_id)
        .bind(people.iter().map(|person| person.id).collect::<Vec<_>>())
        .bind(
            people
                .iter()
                .map(|person| kind_text(person.record.kind))
                .collect::<Vec<_>>(),
        )
        .bind(
            people
                .iter()
                .map(|person| mis_id_of(&person.record))
                .collect::<Vec<_>>(),
        )
        .bind(
            people
                .iter()
                .map(|person| details(person).surname)
                .collect::<Vec<_>>(),
        )
        .bind(
            people
                .iter()
                .map(|person| details(person).forename)
                .collect::<Vec<_>>(),
        )
        .bind(
            people
                .iter()
                .map(|person| person.record.year_group.map(i16::from))
                .collect::<Vec<_>>(),
        )
        .bind(records)
        .bind(
            people
                .iter()
                .map(|person| person.record.as_of)
                .collect::<Vec<DateTime<Utc>>>(),
        )
        .bind(people.iter().map(|person| person.removed).collect::<Vec<_>>())
        .bind(people.iter().map(|person| person.version).collect::<Vec<_>>())
        .execute(tx)
        .await
        .map_err(StoreError::from)?;
        Ok(())
    }

    /// A page of the school's people, in name order.
    pub async fn list(
        &self,
        school_id: &str,
        filter: &PeopleFilter,
    ) -> Result<Vec<StoredPerson>, StoreError> {
        let name = filter
            .name
            .as_ref()
            .map(|name| format!("%{}%", escape_like(&name.to_lowercase())));
        let rows = sqlx::query(
            "SELECT id, record, removed, version
               FROM people
              WHERE school_id = $1
                AND ($2::text IS NULL OR kind = $2)
                AND ($3::smallint IS NULL OR year_group = $3)
                AND ($4::text IS NULL OR sort_name LIKE $4)
                AND ($5 OR NOT removed)
                AND ($6::uuid IS NULL OR (sort_name, id) >
                     (SELECT sort_name, id FROM people WHERE school_id = $1 AND id = $6))
              ORDER BY sort_name, id
              LIMIT $7",
        )
        .bind(school_id)
        .bind(filter.kind.map(kind_text))
        .bind(filter.year_group.map(i16::from))
        .bind(name)
        .bind(filter.include_removed)
        .bind(filter.after)
        .bind(filter.limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(stored).collect()
    }

    /// Everyone on the school's roster now (the removed left out).
    pub async fn roster(&self, school_id: &str) -> Result<Vec<StoredPerson>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, record, removed, version FROM people WHERE school_id = $1 AND NOT removed ORDER BY sort_name, id",
        )
        .bind(school_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(stored).collect()
    }

    /// The person `id` of `school_id`; None if there is none at that school.
    pub async fn person(&self, school_id: &str, id: Uuid) -> Result<Option<StoredPerson>, StoreError> {
        let row =
            sqlx::query("SELECT id, record, removed, version FROM people WHERE school_id = $1 AND id = $2")
                .bind(school_id)
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(stored).transpose()
    }

    /// Every event of a person's stream, oldest first.
    pub async fn history(&self, id: Uuid) -> Result<Vec<Envelope>, StoreError> {
        self.events.load(&person_stream(id)).await
    }
}

pub fn mis_id_of(record: &PersonRecorded) -> String {
    record
        .restricted
        .as_ref()
        .map(|details| details.mis_id.clone())
        .unwrap_or_default()
}

/// `text` matched literally by LIKE.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
