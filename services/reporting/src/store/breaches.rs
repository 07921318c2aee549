//! Filtering breaches in the read model: one write per event (in the consumer kit's transaction), and
//! the facts the figures are counted from.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::domain::breaches::BreachFact;
use crate::domain::patterns::{PatternKey, Sighting};

/// A breach as first recorded.
pub struct NewBreach<'a> {
    pub breach_id: Uuid,
    pub trust_id: &'a str,
    pub school_id: &'a str,
    pub category: &'a str,
    pub severity: u8,
    pub source: &'a str,
    pub first_seen: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub pupil: bool,
    pub year_group: Option<i8>,
    pub triage_by: DateTime<Utc>,
    pub host_key: Option<&'a str>,
}

pub async fn insert(tx: &mut PgConnection, breach: &NewBreach<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO breaches (breach_id, trust_id, school_id, category, severity, source, first_seen,
                               recorded_at, pupil, year_group, triage_by, host_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
    )
    .bind(breach.breach_id)
    .bind(breach.trust_id)
    .bind(breach.school_id)
    .bind(breach.category)
    .bind(i16::from(breach.severity))
    .bind(breach.source)
    .bind(breach.first_seen)
    .bind(breach.recorded_at)
    .bind(breach.pupil)
    .bind(breach.year_group.map(i16::from))
    .bind(breach.triage_by)
    .bind(breach.host_key)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn seen_again(
    tx: &mut PgConnection,
    id: Uuid,
    severity: u8,
    triage_by: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE breaches SET severity = GREATEST(severity, $2), triage_by = $3 WHERE breach_id = $1")
        .bind(id)
        .bind(i16::from(severity))
        .bind(triage_by)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn attributed(
    tx: &mut PgConnection,
    id: Uuid,
    pupil: bool,
    year_group: Option<i8>,
    parents_by: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE breaches SET pupil = $2, year_group = $3, parents_by = COALESCE($4, parents_by) WHERE breach_id = $1",
    )
    .bind(id)
    .bind(pupil)
    .bind(year_group.map(i16::from))
    .bind(parents_by)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn triaged(
    tx: &mut PgConnection,
    id: Uuid,
    verdict: &str,
    at: DateTime<Utc>,
    parents_by: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE breaches SET verdict = $2, triaged_at = $3, parents_by = $4 WHERE breach_id = $1")
        .bind(id)
        .bind(verdict)
        .bind(at)
        .bind(parents_by)
        .execute(tx)
        .await?;
    Ok(())
}

/// Sets one moment of a breach's life (`parents_informed_at`, `resolved_at`) once.
pub async fn happened(
    tx: &mut PgConnection,
    id: Uuid,
    column: Moment,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let statement = match column {
        Moment::ParentsInformed => {
            "UPDATE breaches SET parents_informed_at = COALESCE(parents_informed_at, $2) WHERE breach_id = $1"
        }
        Moment::Resolved => {
            "UPDATE breaches SET resolved_at = COALESCE(resolved_at, $2) WHERE breach_id = $1"
        }
    };
    sqlx::query(statement).bind(id).bind(at).execute(tx).await?;
    Ok(())
}

pub enum Moment {
    ParentsInformed,
    Resolved,
}

pub async fn escalated(tx: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE breaches SET escalated = true WHERE breach_id = $1")
        .bind(id)
        .execute(tx)
        .await?;
    Ok(())
}

fn fact(row: &sqlx::postgres::PgRow) -> Result<BreachFact, sqlx::Error> {
    Ok(BreachFact {
        school_id: row.try_get("school_id")?,
        category: row.try_get("category")?,
        severity: row.try_get::<i16, _>("severity")? as u8,
        first_seen: row.try_get("first_seen")?,
        triage_by: row.try_get("triage_by")?,
        triaged: row.try_get::<Option<DateTime<Utc>>, _>("triaged_at")?.is_some(),
        parents_by: row.try_get("parents_by")?,
        parents_informed_at: row.try_get("parents_informed_at")?,
        escalated: row.try_get("escalated")?,
        resolved: row.try_get::<Option<DateTime<Utc>>, _>("resolved_at")?.is_some(),
    })
}

const COLUMNS: &str = "school_id, category, severity, first_seen, triage_by, triaged_at, parents_by, parents_informed_at, escalated, resolved_at";

/// The schools' breaches first seen within `days`, and those open now: (in the period, open).
pub async fn facts(
    pool: &PgPool,
    schools: &[String],
    days: (NaiveDate, NaiveDate),
) -> Result<(Vec<BreachFact>, Vec<BreachFact>), sqlx::Error> {
    let in_period = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM breaches WHERE school_id = ANY($1)
            AND first_seen >= $2::date AND first_seen < $3::date + 1"
    ))
    .bind(schools)
    .bind(days.0)
    .bind(days.1)
    .fetch_all(pool)
    .await?;
    let open = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM breaches WHERE school_id = ANY($1) AND resolved_at IS NULL"
    ))
    .bind(schools)
    .fetch_all(pool)
    .await?;
    Ok((
        in_period.iter().map(fact).collect::<Result<_, _>>()?,
        open.iter().map(fact).collect::<Result<_, _>>()?,
    ))
}

/// What patterns are found among: the schools' blocked hosts (by key) and monitoring alerts first seen
/// within `days` (and a week either side, so a pair across the period's edge is seen).
pub async fn sightings(
    pool: &PgPool,
    schools: &[String],
    days: (NaiveDate, NaiveDate),
) -> Result<Vec<Sighting>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT host_key, source, school_id, category, first_seen FROM breaches
          WHERE school_id = ANY($1) AND (host_key IS NOT NULL OR source = 'alert')
            AND first_seen >= $2::date - 7 AND first_seen < $3::date + 8",
    )
    .bind(schools)
    .bind(days.0)
    .bind(days.1)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let category: String = row.try_get("category")?;
            let source: String = row.try_get("source")?;
            let key = match row.try_get::<Option<String>, _>("host_key")? {
                Some(key) if source != "alert" => PatternKey::Host(key),
                _ => PatternKey::AlertCategory(category.clone()),
            };
            Ok(Sighting {
                key,
                school_id: row.try_get("school_id")?,
                category,
                first_seen: row.try_get("first_seen")?,
            })
        })
        .collect()
}
