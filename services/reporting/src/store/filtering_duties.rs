//! The schools' filtering duties in the read model: one write per event (in the consumer kit's
//! transaction), and the facts the trust lead's view is made from.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::domain::filtering_duties::DutyFacts;

async fn ensure(tx: &mut PgConnection, trust_id: &str, school_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO filtering_duties (school_id, trust_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(school_id)
        .bind(trust_id)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn roles_named(
    tx: &mut PgConnection,
    trust_id: &str,
    school_id: &str,
    named: &[String],
) -> Result<(), sqlx::Error> {
    ensure(tx, trust_id, school_id).await?;
    sqlx::query("UPDATE filtering_duties SET roles_named = $2 WHERE school_id = $1")
        .bind(school_id)
        .bind(named)
        .execute(tx)
        .await?;
    Ok(())
}

/// A check; the latest by when it was carried out stands.
pub async fn checked(
    tx: &mut PgConnection,
    trust_id: &str,
    school_id: &str,
    at: DateTime<Utc>,
    next_by: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    ensure(tx, trust_id, school_id).await?;
    sqlx::query(
        "UPDATE filtering_duties SET last_check_at = $2, next_check_by = $3
          WHERE school_id = $1 AND (last_check_at IS NULL OR last_check_at <= $2)",
    )
    .bind(school_id)
    .bind(at)
    .bind(next_by)
    .execute(tx)
    .await?;
    Ok(())
}

/// A review; the latest by its day stands.
pub async fn reviewed(
    tx: &mut PgConnection,
    trust_id: &str,
    school_id: &str,
    on: NaiveDate,
    next_by: NaiveDate,
) -> Result<(), sqlx::Error> {
    ensure(tx, trust_id, school_id).await?;
    sqlx::query(
        "UPDATE filtering_duties SET last_reviewed_on = $2, next_review_by = $3
          WHERE school_id = $1 AND (last_reviewed_on IS NULL OR last_reviewed_on <= $2)",
    )
    .bind(school_id)
    .bind(on)
    .bind(next_by)
    .execute(tx)
    .await?;
    Ok(())
}

/// A change's state: `proposed` on its proposal (once), then `approved`, `rejected` or `applied`.
pub async fn change(
    tx: &mut PgConnection,
    school_id: &str,
    id: Uuid,
    state: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO filter_changes (change_id, school_id, state) VALUES ($1, $2, $3)
         ON CONFLICT (change_id) DO UPDATE SET state = EXCLUDED.state WHERE EXCLUDED.state <> 'proposed'",
    )
    .bind(id)
    .bind(school_id)
    .bind(state)
    .execute(tx)
    .await?;
    Ok(())
}

/// The duties of `schools` that the log has told of.
pub async fn facts(pool: &PgPool, schools: &[String]) -> Result<Vec<DutyFacts>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT d.school_id, d.roles_named, d.last_check_at, d.next_check_by, d.last_reviewed_on,
                d.next_review_by,
                (SELECT count(*) FROM filter_changes c
                  WHERE c.school_id = d.school_id AND c.state IN ('proposed', 'approved')) AS awaiting
           FROM filtering_duties d WHERE d.school_id = ANY($1)",
    )
    .bind(schools)
    .fetch_all(pool)
    .await?;
    let mut facts: Vec<DutyFacts> = rows
        .iter()
        .map(|row| {
            Ok(DutyFacts {
                school_id: row.try_get("school_id")?,
                roles_named: row.try_get("roles_named")?,
                last_check: row
                    .try_get::<Option<DateTime<Utc>>, _>("last_check_at")?
                    .zip(row.try_get("next_check_by")?),
                last_review: row
                    .try_get::<Option<NaiveDate>, _>("last_reviewed_on")?
                    .zip(row.try_get("next_review_by")?),
                changes_awaiting: row.try_get("awaiting")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    // Changes at a school that has named, checked and reviewed nothing yet.
    let awaiting: Vec<(String, i64)> = sqlx::query_as(
        "SELECT school_id, count(*) FROM filter_changes
          WHERE school_id = ANY($1) AND state IN ('proposed', 'approved')
            AND school_id NOT IN (SELECT school_id FROM filtering_duties)
          GROUP BY school_id",
    )
    .bind(schools)
    .fetch_all(pool)
    .await?;
    facts.extend(
        awaiting
            .into_iter()
            .map(|(school_id, changes_awaiting)| DutyFacts {
                school_id,
                changes_awaiting,
                ..DutyFacts::default()
            }),
    );
    Ok(facts)
}
