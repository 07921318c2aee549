//! Acceptable use in the read model: one write per event (in the consumer kit's transaction), and the
//! facts the figures are counted from.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Row};
use trustsafe_events::aup::{AgreementRecorded, AupPublished, PersonRecorded};
use uuid::Uuid;

use crate::domain::acceptable_use::{AupFacts, GrantFact, OnRoster};

fn json<T: serde::Serialize>(record: &T) -> Result<serde_json::Value, sqlx::Error> {
    serde_json::to_value(record).map_err(|err| sqlx::Error::Encode(Box::new(err)))
}

fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, sqlx::Error> {
    serde_json::from_value(value).map_err(|err| sqlx::Error::Decode(Box::new(err)))
}

/// A person joined the roster or their record changed (the latest record stands: the consumer kit
/// applies a person's events in order).
pub async fn person(
    tx: &mut PgConnection,
    school_id: &str,
    person: &PersonRecorded,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO aup_roster (person_id, school_id, record) VALUES ($1, $2, $3)
         ON CONFLICT (person_id) DO UPDATE SET school_id = $2, record = $3, removed = false",
    )
    .bind(person.person_id)
    .bind(school_id)
    .bind(json(person)?)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn person_removed(tx: &mut PgConnection, person_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE aup_roster SET removed = true WHERE person_id = $1")
        .bind(person_id)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn policy(
    tx: &mut PgConnection,
    trust_id: &str,
    published: &AupPublished,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO aup_policies (document_id, version, trust_id, record) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(published.document_id)
    .bind(published.version)
    .bind(trust_id)
    .bind(json(published)?)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn answer(
    tx: &mut PgConnection,
    school_id: &str,
    answer: &AgreementRecorded,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO aup_answers (agreement_id, school_id, record) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(answer.agreement_id)
        .bind(school_id)
        .bind(json(answer)?)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn granted(
    tx: &mut PgConnection,
    school_id: &str,
    grant_id: Uuid,
    person_id: Uuid,
    granted_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO aup_grants (grant_id, school_id, person_id, granted_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(grant_id)
    .bind(school_id)
    .bind(person_id)
    .bind(granted_at)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn revoked(tx: &mut PgConnection, grant_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE aup_grants SET revoked = true WHERE grant_id = $1")
        .bind(grant_id)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn visited(
    tx: &mut PgConnection,
    school_id: &str,
    visitor_id: Uuid,
    agreed_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO aup_visits (visitor_id, school_id, agreed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(visitor_id)
        .bind(school_id)
        .bind(agreed_at)
        .execute(tx)
        .await?;
    Ok(())
}

/// The acceptable-use facts' tables.
pub const TABLES: &[&str] = &[
    "aup_roster",
    "aup_policies",
    "aup_answers",
    "aup_grants",
    "aup_visits",
];

/// Everything the figures of `trust_id`'s `schools` are counted from.
pub async fn facts(pool: &PgPool, trust_id: &str, schools: &[String]) -> Result<AupFacts, sqlx::Error> {
    let roster =
        sqlx::query("SELECT school_id, record FROM aup_roster WHERE school_id = ANY($1) AND NOT removed")
            .bind(schools)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| {
                Ok(OnRoster {
                    school_id: row.try_get("school_id")?,
                    person: from_json(row.try_get("record")?)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
    let policies: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT record FROM aup_policies WHERE trust_id = $1")
            .bind(trust_id)
            .fetch_all(pool)
            .await?;
    let answers: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT record FROM aup_answers WHERE school_id = ANY($1)")
            .bind(schools)
            .fetch_all(pool)
            .await?;
    let grants = sqlx::query(
        "SELECT school_id, person_id, granted_at, revoked FROM aup_grants WHERE school_id = ANY($1)",
    )
    .bind(schools)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| {
        Ok(GrantFact {
            school_id: row.try_get("school_id")?,
            person_id: row.try_get("person_id")?,
            granted_at: row.try_get("granted_at")?,
            revoked: row.try_get("revoked")?,
        })
    })
    .collect::<Result<_, sqlx::Error>>()?;
    let visits = sqlx::query_as("SELECT school_id, agreed_at FROM aup_visits WHERE school_id = ANY($1)")
        .bind(schools)
        .fetch_all(pool)
        .await?;
    Ok(AupFacts {
        roster,
        policies: policies.into_iter().map(from_json).collect::<Result<_, _>>()?,
        answers: answers.into_iter().map(from_json).collect::<Result<_, _>>()?,
        grants,
        visits,
    })
}
