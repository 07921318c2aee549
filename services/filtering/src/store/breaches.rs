//! Breaches: each breach's stream (`breach-<id>`) and the `breaches` table kept in step with it; the
//! hourly counts; uploads already taken; the roster's accounts; a school's category rules
//! (migrations/2001_breaches.sql).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Row};
use trustsafe_events::aup::RosterKind;
use trustsafe_events::filtering::duties::FilterChangeProposed;
use trustsafe_events::filtering::{
    BreachEscalated, BreachRecorded, BreachSeenAgain, CategoryRule, CategoryRulesSet, Involved, Suppression,
    SuppressionsSet,
};
use trustsafe_eventstore::{
    AppendContext, AppendError, EventStore, ExpectedVersion, NewEvent, StoreError, StreamEvent,
};
use uuid::Uuid;

use crate::domain::breaches::Attribution;
use crate::domain::changes::Change;
use crate::domain::life::Life;

fn breach_stream(id: Uuid) -> String {
    format!("breach-{id}")
}

pub fn kind_text(kind: RosterKind) -> &'static str {
    match kind {
        RosterKind::Pupil => "pupil",
        RosterKind::Staff => "staff",
        RosterKind::Parent => "parent",
    }
}

fn kind_of(text: &str) -> Result<RosterKind, StoreError> {
    match text {
        "pupil" => Ok(RosterKind::Pupil),
        "staff" => Ok(RosterKind::Staff),
        "parent" => Ok(RosterKind::Parent),
        other => Err(StoreError::Corrupt(format!("a roster kind {other:?}"))),
    }
}

/// A kept breach that a new sighting may continue.
#[derive(Clone, Debug)]
pub struct Continued {
    pub id: Uuid,
    pub version: i64,
    pub severity: u8,
    pub last_seen: DateTime<Utc>,
    pub category: String,
    pub first_seen: DateTime<Utc>,
    pub life: Life,
}

/// What gathers sightings: who, host, category, and when the upload first saw them.
pub struct GatherKey<'a> {
    pub who: &'a str,
    pub host: &'a str,
    pub category: &'a str,
    pub first_seen: DateTime<Utc>,
}

/// A new breach to keep: its record, its gathering key, and its escalation if it escalates at once.
pub struct NewBreach {
    pub record: BreachRecorded,
    pub who: String,
    pub escalation: Option<BreachEscalated>,
    pub life: Life,
}

/// More sightings for a kept breach.
pub struct MoreSightings {
    pub breach: Continued,
    pub seen: BreachSeenAgain,
    pub escalation: Option<BreachEscalated>,
    /// Its life after them (the severity, the escalation).
    pub life: Life,
}

/// A breach as the table holds it.
#[derive(Clone, Debug)]
pub struct StoredBreach {
    pub id: Uuid,
    pub record: BreachRecorded,
    pub life: Life,
    pub version: i64,
}

#[derive(Clone, Debug, Default)]
pub struct BreachFilter {
    pub category: Option<String>,
    /// Only those past a deadline at this instant.
    pub overdue_at: Option<DateTime<Utc>>,
    pub include_resolved: bool,
    pub min_severity: Option<u8>,
    /// The last breach of the previous page.
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

#[derive(Clone)]
pub struct BreachStore {
    events: EventStore,
}

impl BreachStore {
    pub fn new(events: EventStore) -> Self {
        Self { events }
    }

    pub fn pool(&self) -> &PgPool {
        self.events.pool()
    }

    /// Holds the school's breaches until the transaction ends: two uploads of one school take turns,
    /// so sightings of one breach are never recorded twice.
    pub async fn lock_school(&self, tx: &mut PgConnection, school_id: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('breaches/' || $1, 0))")
            .bind(school_id)
            .execute(tx)
            .await?;
        Ok(())
    }

    /// The answer given to the same bytes before, if they were taken.
    pub async fn earlier_upload(
        &self,
        tx: &mut PgConnection,
        school_id: &str,
        digest: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT answer FROM uploads WHERE school_id = $1 AND digest = $2")
                .bind(school_id)
                .bind(digest)
                .fetch_optional(tx)
                .await?,
        )
    }

    pub async fn save_upload(
        &self,
        tx: &mut PgConnection,
        school_id: &str,
        digest: &str,
        format: &str,
        answer: &serde_json::Value,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO uploads (school_id, digest, format, received_at, answer) VALUES ($1, $2, $3, now(), $4)")
            .bind(school_id)
            .bind(digest)
            .bind(format)
            .bind(answer)
            .execute(tx)
            .await?;
        Ok(())
    }

    pub async fn rules(&self, school_id: &str) -> Result<Vec<CategoryRule>, StoreError> {
        let rows = sqlx::query(
            "SELECT vendor, category, severity FROM category_rules WHERE school_id = $1 ORDER BY vendor",
        )
        .bind(school_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CategoryRule {
                    vendor: row.try_get("vendor")?,
                    category: row.try_get("category")?,
                    severity: row.try_get::<i16, _>("severity")? as u8,
                })
            })
            .collect()
    }

    /// Replaces the school's category rules (serialised per school by the stream's version).
    pub async fn set_rules(
        &self,
        context: &AppendContext,
        school_id: &str,
        rules: &CategoryRulesSet,
    ) -> Result<(), AppendError> {
        let mut tx = super::begin_with(
            &self.events,
            &format!("categories-{school_id}"),
            context,
            rules,
            chrono::Utc::now(),
        )
        .await?;
        sqlx::query("DELETE FROM category_rules WHERE school_id = $1")
            .bind(school_id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        sqlx::query(
            "INSERT INTO category_rules (school_id, vendor, category, severity)
             SELECT $1, vendor, category, severity FROM UNNEST($2::text[], $3::text[], $4::smallint[])
                    AS r(vendor, category, severity)",
        )
        .bind(school_id)
        .bind(
            rules
                .rules
                .iter()
                .map(|rule| rule.vendor.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            rules
                .rules
                .iter()
                .map(|rule| rule.category.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            rules
                .rules
                .iter()
                .map(|rule| i16::from(rule.severity))
                .collect::<Vec<_>>(),
        )
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Replaces the school's suppression rules.
    pub async fn set_suppressions(
        &self,
        context: &AppendContext,
        school_id: &str,
        rules: &SuppressionsSet,
    ) -> Result<(), AppendError> {
        let mut tx = super::begin_with(
            &self.events,
            &format!("suppressions-{school_id}"),
            context,
            rules,
            chrono::Utc::now(),
        )
        .await?;
        sqlx::query("DELETE FROM suppressions WHERE school_id = $1")
            .bind(school_id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        sqlx::query(
            "INSERT INTO suppressions (school_id, position, host, phrase, reason)
             SELECT $1, position, host, phrase, reason
               FROM UNNEST($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS r(host, phrase, reason, position)",
        )
        .bind(school_id)
        .bind(rules.rules.iter().map(|rule| rule.host.clone()).collect::<Vec<_>>())
        .bind(rules.rules.iter().map(|rule| rule.phrase.clone()).collect::<Vec<_>>())
        .bind(rules.rules.iter().map(|rule| rule.reason.clone()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    pub async fn suppressions(&self, school_id: &str) -> Result<Vec<Suppression>, StoreError> {
        let rows: Vec<(Option<String>, Option<String>, String)> = sqlx::query_as(
            "SELECT host, phrase, reason FROM suppressions WHERE school_id = $1 ORDER BY position",
        )
        .bind(school_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(host, phrase, reason)| Suppression { host, phrase, reason })
            .collect())
    }

    /// Who the roster says these account hashes are, at the school.
    pub async fn accounts(
        &self,
        tx: &mut PgConnection,
        school_id: &str,
        hashes: &[String],
    ) -> Result<HashMap<String, Attribution>, StoreError> {
        let rows = sqlx::query(
            "SELECT account_hash, person_id, kind, year_group FROM roster_accounts
              WHERE school_id = $1 AND account_hash = ANY($2)",
        )
        .bind(school_id)
        .bind(hashes)
        .fetch_all(tx)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("account_hash")?,
                    Attribution {
                        person_id: row.try_get("person_id")?,
                        involved: Involved {
                            kind: kind_of(row.try_get("kind")?)?,
                            year_group: row
                                .try_get::<Option<i16>, _>("year_group")?
                                .map(|year| year as i8),
                        },
                    },
                ))
            })
            .collect()
    }

    /// For each key, the kept breach of the same who, host and category whose first sighting is the
    /// latest at or before the key's, if any (the domain decides whether it continues). A person's
    /// report is never continued.
    pub async fn latest_before(
        &self,
        tx: &mut PgConnection,
        school_id: &str,
        keys: &[GatherKey<'_>],
    ) -> Result<Vec<Option<Continued>>, StoreError> {
        let mut found = vec![None; keys.len()];
        if keys.is_empty() {
            return Ok(found);
        }
        let column =
            |field: for<'k> fn(&'k GatherKey<'_>) -> &'k str| keys.iter().map(field).collect::<Vec<_>>();
        let firsts: Vec<DateTime<Utc>> = keys.iter().map(|key| key.first_seen).collect();
        let rows = sqlx::query(
            "SELECT key.n, b.id, b.version, b.severity, b.last_seen, b.category, b.first_seen, b.life
               FROM UNNEST($2::text[], $3::text[], $4::text[], $5::timestamptz[]) WITH ORDINALITY
                    AS key(who, host, category, first_seen, n)
               CROSS JOIN LATERAL (
                   SELECT * FROM breaches b
                    WHERE b.school_id = $1 AND b.who = key.who AND b.host = key.host
                      AND b.category = key.category AND b.first_seen <= key.first_seen
                      AND b.record->>'source' <> 'report'
                    ORDER BY b.first_seen DESC LIMIT 1
               ) b",
        )
        .bind(school_id)
        .bind(column(|key| key.who))
        .bind(column(|key| key.host))
        .bind(column(|key| key.category))
        .bind(firsts)
        .fetch_all(tx)
        .await?;
        for row in rows {
            let index = row.try_get::<i64, _>("n")? as usize - 1;
            found[index] = Some(Continued {
                id: row.try_get("id")?,
                version: row.try_get("version")?,
                severity: row.try_get::<i16, _>("severity")? as u8,
                last_seen: row.try_get("last_seen")?,
                category: row.try_get("category")?,
                first_seen: row.try_get("first_seen")?,
                life: life_of(&row)?,
            });
        }
        Ok(found)
    }

    /// Appends each new breach's first event (and its escalation) and adds its row.
    pub async fn record_new(
        &self,
        tx: &mut PgConnection,
        context: &AppendContext,
        school_id: &str,
        breaches: &[NewBreach],
    ) -> Result<(), AppendError> {
        if breaches.is_empty() {
            return Ok(());
        }
        let firsts: Vec<StreamEvent> = breaches
            .iter()
            .map(|breach| StreamEvent {
                stream_id: breach_stream(breach.record.breach_id),
                expected: 0,
                event: NewEvent::new(&breach.record, breach.record.last_seen),
            })
            .collect();
        self.events.append_each(tx, context, &firsts).await?;
        let escalations: Vec<StreamEvent> = breaches
            .iter()
            .filter_map(|breach| {
                let escalation = breach.escalation.as_ref()?;
                Some(StreamEvent {
                    stream_id: breach_stream(breach.record.breach_id),
                    expected: 1,
                    event: NewEvent::new(escalation, breach.record.last_seen),
                })
            })
            .collect();
        self.events.append_each(tx, context, &escalations).await?;
        let record = |breach: &NewBreach| serde_json::to_value(&breach.record).expect("a breach serialises");
        let details = |breach: &NewBreach| breach.record.restricted.clone().unwrap_or_default();
        sqlx::query(
            "INSERT INTO breaches (id, school_id, who, host, category, severity, first_seen, last_seen, count,
                                   account_hash, person_id, version, record, life, next_due)
             SELECT id, $1, who, host, category, severity, first_seen, last_seen, count, account_hash,
                    person_id, CASE WHEN escalated THEN 2 ELSE 1 END, record, life, next_due
               FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::text[], $6::smallint[], $7::timestamptz[],
                           $8::timestamptz[], $9::int[], $10::text[], $11::uuid[], $12::bool[], $13::jsonb[],
                           $14::jsonb[], $15::timestamptz[])
                    AS new(id, who, host, category, severity, first_seen, last_seen, count, account_hash,
                           person_id, escalated, record, life, next_due)",
        )
        .bind(school_id)
        .bind(breaches.iter().map(|breach| breach.record.breach_id).collect::<Vec<_>>())
        .bind(breaches.iter().map(|breach| breach.who.clone()).collect::<Vec<_>>())
        .bind(breaches.iter().map(|breach| details(breach).host).collect::<Vec<_>>())
        .bind(breaches.iter().map(|breach| breach.record.category.clone()).collect::<Vec<_>>())
        .bind(breaches.iter().map(|breach| i16::from(breach.record.severity)).collect::<Vec<_>>())
        .bind(breaches.iter().map(|breach| breach.record.first_seen).collect::<Vec<_>>())
        .bind(breaches.iter().map(|breach| breach.record.last_seen).collect::<Vec<_>>())
        .bind(breaches.iter().map(|breach| breach.record.count as i32).collect::<Vec<_>>())
        .bind(breaches.iter().map(|breach| details(breach).account_hash).collect::<Vec<_>>())
        .bind(breaches.iter().map(|breach| details(breach).person_id).collect::<Vec<_>>())
        .bind(breaches.iter().map(|breach| breach.escalation.is_some()).collect::<Vec<_>>())
        .bind(breaches.iter().map(record).collect::<Vec<_>>())
        .bind(breaches.iter().map(|breach| life_json(&breach.life)).collect::<Vec<_>>())
        .bind(breaches.iter().map(|breach| breach.life.next_due()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        Ok(())
    }

    /// Appends more sightings (and an escalation, when they make the breach grave enough) to kept
    /// breaches and moves their rows on.
    pub async fn record_more(
        &self,
        tx: &mut PgConnection,
        context: &AppendContext,
        more: &[MoreSightings],
    ) -> Result<(), AppendError> {
        if more.is_empty() {
            return Ok(());
        }
        let seen: Vec<StreamEvent> = more
            .iter()
            .map(|more| StreamEvent {
                stream_id: breach_stream(more.breach.id),
                expected: more.breach.version,
                event: NewEvent::new(&more.seen, more.seen.last_seen),
            })
            .collect();
        self.events.append_each(tx, context, &seen).await?;
        let escalations: Vec<StreamEvent> = more
            .iter()
            .filter_map(|more| {
                Some(StreamEvent {
                    stream_id: breach_stream(more.breach.id),
                    expected: more.breach.version + 1,
                    event: NewEvent::new(more.escalation.as_ref()?, more.seen.last_seen),
                })
            })
            .collect();
        self.events.append_each(tx, context, &escalations).await?;
        sqlx::query(
            "UPDATE breaches b
                SET count = b.count + more.count, last_seen = GREATEST(b.last_seen, more.last_seen),
                    severity = more.severity,
                    version = b.version + 1 + more.escalates::int,
                    record = b.record || jsonb_build_object('count', b.count + more.count,
                                                           'last_seen', GREATEST(b.last_seen, more.last_seen),
                                                           'severity', more.severity),
                    life = more.life, next_due = more.next_due
               FROM UNNEST($1::uuid[], $2::int[], $3::timestamptz[], $4::smallint[], $5::bool[], $6::jsonb[],
                           $7::timestamptz[])
                    AS more(id, count, last_seen, severity, escalates, life, next_due)
              WHERE b.id = more.id",
        )
        .bind(more.iter().map(|more| more.breach.id).collect::<Vec<_>>())
        .bind(more.iter().map(|more| more.seen.count as i32).collect::<Vec<_>>())
        .bind(more.iter().map(|more| more.seen.last_seen).collect::<Vec<_>>())
        .bind(
            more.iter()
                .map(|more| i16::from(more.seen.severity))
                .collect::<Vec<_>>(),
        )
        .bind(
            more.iter()
                .map(|more| more.escalation.is_some())
                .collect::<Vec<_>>(),
        )
        .bind(more.iter().map(|more| life_json(&more.life)).collect::<Vec<_>>())
        .bind(more.iter().map(|more| more.life.next_due()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        Ok(())
    }

    /// Whether a breach at the school found illegal content at `host`, a subdomain of it, or a domain it
    /// is under.
    pub async fn illegal_at_host(&self, school_id: &str, host: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM breaches WHERE school_id = $1 AND severity = 5
                              AND (host = $2 OR right(host, length($2) + 1) = '.' || $2
                                   OR right($2, length(host) + 1) = '.' || host))",
        )
        .bind(school_id)
        .bind(host)
        .fetch_one(self.pool())
        .await?)
    }

    /// Appends a life's events to a breach at `version` and keeps its row in step (and starts the
    /// change an over-blocking verdict proposes, when there is one); a conflict when someone else moved
    /// it first.
    pub async fn save_life(
        &self,
        context: &AppendContext,
        id: Uuid,
        version: i64,
        life: &Life,
        events: &[NewEvent],
        proposal: Option<(&FilterChangeProposed, &Change)>,
    ) -> Result<(), AppendError> {
        let mut tx = self.pool().begin().await.map_err(StoreError::from)?;
        if let Some((proposed, change)) = proposal {
            let school_id = context.school_id.as_deref().unwrap_or_default();
            super::duties::insert_change(&self.events, &mut tx, context, school_id, proposed, change).await?;
        }
        let appended = self
            .events
            .append_in(
                &mut tx,
                &breach_stream(id),
                ExpectedVersion::Exactly(version),
                context,
                events,
            )
            .await?;
        sqlx::query(
            "UPDATE breaches SET life = $2, next_due = $3, resolved = $4, version = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(life_json(life))
        .bind(life.next_due())
        .bind(life.resolved_at.is_some())
        .bind(appended.last_version)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Adds an upload's hourly counts.
    pub async fn add_hours(
        &self,
        tx: &mut PgConnection,
        school_id: &str,
        hours: &[(DateTime<Utc>, String, &'static str, i64)],
    ) -> Result<(), StoreError> {
        if hours.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO filter_hours (school_id, hour, category, action, requests)
             SELECT $1, hour, category, action, requests
               FROM UNNEST($2::timestamptz[], $3::text[], $4::text[], $5::bigint[]) AS h(hour, category, action, requests)
             ON CONFLICT (school_id, hour, category, action)
             DO UPDATE SET requests = filter_hours.requests + EXCLUDED.requests",
        )
        .bind(school_id)
        .bind(hours.iter().map(|hour| hour.0).collect::<Vec<_>>())
        .bind(hours.iter().map(|hour| hour.1.clone()).collect::<Vec<_>>())
        .bind(hours.iter().map(|hour| hour.2).collect::<Vec<_>>())
        .bind(hours.iter().map(|hour| hour.3).collect::<Vec<_>>())
        .execute(tx)
        .await?;
        Ok(())
    }

    /// The school's breaches, newest first.
    pub async fn list(
        &self,
        school_id: &str,
        filter: &BreachFilter,
    ) -> Result<Vec<StoredBreach>, StoreError> {
        let (before_time, before_id) = filter.before.unzip();
        let rows = sqlx::query(
            "SELECT id, record, life, version FROM breaches
              WHERE school_id = $1
                AND ($2::text IS NULL OR category = $2)
                AND ($3::smallint IS NULL OR severity >= $3)
                AND ($4::timestamptz IS NULL OR (first_seen, id) < ($4, $5))
                AND ($7::timestamptz IS NULL OR next_due < $7)
                AND ($8 OR NOT resolved)
              ORDER BY first_seen DESC, id DESC LIMIT $6",
        )
        .bind(school_id)
        .bind(&filter.category)
        .bind(filter.min_severity.map(i16::from))
        .bind(before_time)
        .bind(before_id)
        .bind(filter.limit)
        .bind(filter.overdue_at)
        .bind(filter.include_resolved)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(stored).collect()
    }

    pub async fn get(&self, school_id: &str, id: Uuid) -> Result<Option<StoredBreach>, StoreError> {
        let row =
            sqlx::query("SELECT id, record, life, version FROM breaches WHERE school_id = $1 AND id = $2")
                .bind(school_id)
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(stored).transpose()
    }

    /// The hourly counts of a school between two instants: (hour, category, action, requests).
    pub async fn hours(
        &self,
        school_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, String, String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT hour, category, action, requests FROM filter_hours
              WHERE school_id = $1 AND hour >= $2 AND hour < $3 ORDER BY hour, category, action",
        )
        .bind(school_id)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?)
    }
}

fn stored(row: &sqlx::postgres::PgRow) -> Result<StoredBreach, StoreError> {
    Ok(StoredBreach {
        id: row.try_get("id")?,
        record: serde_json::from_value(row.try_get("record")?)
            .map_err(|err| StoreError::Corrupt(format!("a breach's record: {err}")))?,
        life: life_of(row)?,
        version: row.try_get("version")?,
    })
}

pub(super) fn life_of(row: &sqlx::postgres::PgRow) -> Result<Life, StoreError> {
    serde_json::from_value(row.try_get("life")?)
        .map_err(|err| StoreError::Corrupt(format!("a breach's life: {err}")))
}

pub(super) fn life_json(life: &Life) -> serde_json::Value {
    serde_json::to_value(life).expect("a life serialises")
}
