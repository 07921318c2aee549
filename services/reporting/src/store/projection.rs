//! The read model's writes, one per change an event makes (the reports' for a batch of them at
//! once). Each runs in the consumer kit's transaction, beside the dedup rows and offsets.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A concern as first reported.
pub struct NewConcern<'a> {
    pub incident_id: Uuid,
    pub trust_id: &'a str,
    pub school_id: &'a str,
    pub category: &'a str,
    pub pseudonym: String,
    pub reported_at: DateTime<Utc>,
    pub acknowledge_by: DateTime<Utc>,
    pub handled_by: &'a str,
    pub alleged: &'a [String],
}

/// Which rollup rows a concern counts in: its school's, among the concerns the school's own staff
/// may know of, or among those only the trust may (`domain::audience`).
pub struct Rollup<'a> {
    pub school_id: &'a str,
    pub school_sees: bool,
}

/// What a month's count adds.
pub enum Counted {
    Reported(i32),
    Closed(i32),
}

/// Records concerns, in one statement for a rebuild's batch: the ids of those not recorded before.
pub async fn insert_concerns(
    tx: &mut PgConnection,
    concerns: &[NewConcern<'_>],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let column =
        |field: for<'c> fn(&'c NewConcern<'c>) -> &'c str| concerns.iter().map(field).collect::<Vec<_>>();
    let alleged: Vec<serde_json::Value> = concerns
        .iter()
        .map(|concern| serde_json::json!(concern.alleged))
        .collect();
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO concerns (incident_id, trust_id, school_id, category, status, pseudonym,
                               reported_at, acknowledge_by, handled_by, alleged)
         SELECT id, trust, school, category, 'reported', pseudonym, reported_at, acknowledge_by, handled_by,
                ARRAY(SELECT jsonb_array_elements_text(alleged))
           FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                       $7::timestamptz[], $8::text[], $9::jsonb[])
                AS c(id, trust, school, category, pseudonym, reported_at, acknowledge_by, handled_by, alleged)
         ON CONFLICT DO NOTHING RETURNING incident_id",
    )
    .bind(
        concerns
            .iter()
            .map(|concern| concern.incident_id)
            .collect::<Vec<_>>(),
    )
    .bind(column(|concern| concern.trust_id))
    .bind(column(|concern| concern.school_id))
    .bind(column(|concern| concern.category))
    .bind(column(|concern| &concern.pseudonym))
    .bind(
        concerns
            .iter()
            .map(|concern| concern.reported_at)
            .collect::<Vec<_>>(),
    )
    .bind(
        concerns
            .iter()
            .map(|concern| concern.acknowledge_by)
            .collect::<Vec<_>>(),
    )
    .bind(column(|concern| concern.handled_by))
    .bind(&alleged)
    .fetch_all(tx)
    .await?;
    Ok(inserted.into_iter().collect())
}

/// A required step of a concern, and its deadline.
pub struct NewStep<'a> {
    pub incident_id: Uuid,
    pub school_id: &'a str,
    pub step_id: &'a str,
    pub due_at: Option<DateTime<Utc>>,
}

/// Records concerns' required steps and their deadlines.
pub async fn insert_steps(tx: &mut PgConnection, steps: &[NewStep<'_>]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO concern_steps (incident_id, school_id, step_id, due_at)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::timestamptz[])
         ON CONFLICT DO NOTHING",
    )
    .bind(steps.iter().map(|step| step.incident_id).collect::<Vec<_>>())
    .bind(steps.iter().map(|step| step.school_id).collect::<Vec<_>>())
    .bind(steps.iter().map(|step| step.step_id).collect::<Vec<_>>())
    .bind(steps.iter().map(|step| step.due_at).collect::<Vec<_>>())
    .execute(tx)
    .await?;
    Ok(())
}

/// Marks a reported concern acknowledged: its school, whether the school's staff may count it, and
/// when it was reported; none if it was not waiting.
pub async fn acknowledge(
    tx: &mut PgConnection,
    incident_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<(String, bool, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE concerns SET acknowledged_at = $2, status = 'acknowledged'
          WHERE incident_id = $1 AND status = 'reported'
      RETURNING school_id, handled_by <> 'trust_lead', reported_at",
    )
    .bind(incident_id)
    .bind(at)
    .fetch_optional(tx)
    .await
}

/// Counts an acknowledgement's time in the histogram of its reporting month.
pub async fn count_acknowledgement(
    tx: &mut PgConnection,
    rollup: &Rollup<'_>,
    reported_at: DateTime<Utc>,
    acknowledged_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO monthly_acknowledgements (school_id, month, school_sees, buckets)
         VALUES ($1, date_trunc('month', $2 AT TIME ZONE 'UTC')::date, $3, array_fill(0, ARRAY[280]))
         ON CONFLICT DO NOTHING",
    )
    .bind(rollup.school_id)
    .bind(reported_at)
    .bind(rollup.school_sees)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE monthly_acknowledgements SET buckets[slot] = buckets[slot] + 1
           FROM acknowledgement_bucket(floor(extract(epoch FROM $3 - $2) / 60)::integer) AS slot
          WHERE school_id = $1 AND month = date_trunc('month', $2 AT TIME ZONE 'UTC')::date
            AND school_sees = $4",
    )
    .bind(rollup.school_id)
    .bind(reported_at)
    .bind(acknowledged_at)
    .bind(rollup.school_sees)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn complete_step(
    tx: &mut PgConnection,
    incident_id: Uuid,
    step_id: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE concern_steps SET completed_at = $3 WHERE incident_id = $1 AND step_id = $2")
        .bind(incident_id)
        .bind(step_id)
        .bind(at)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn escalate(tx: &mut PgConnection, incident_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE concerns SET escalated = true WHERE incident_id = $1")
        .bind(incident_id)
        .execute(tx)
        .await?;
    Ok(())
}

/// Closes an open concern: its school, whether the school's staff may count it, and its category;
/// none if it was closed already.
pub async fn close(
    tx: &mut PgConnection,
    incident_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<(String, bool, String)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE concerns SET status = 'closed', closed_at = $2
          WHERE incident_id = $1 AND status <> 'closed'
      RETURNING school_id, handled_by <> 'trust_lead', category",
    )
    .bind(incident_id)
    .bind(at)
    .fetch_optional(tx)
    .await
}

/// Reopens a closed concern: as [`close`], and when it had been closed; none if it was open.
pub async fn reopen(
    tx: &mut PgConnection,
    incident_id: Uuid,
) -> Result<Option<(String, bool, String, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "WITH previous AS (
             SELECT incident_id, closed_at FROM concerns
              WHERE incident_id = $1 AND status = 'closed' FOR UPDATE
         )
         UPDATE concerns SET status = 'reopened', closed_at = NULL FROM previous
          WHERE concerns.incident_id = previous.incident_id
      RETURNING concerns.school_id, concerns.handled_by <> 'trust_lead', concerns.category,
                previous.closed_at",
    )
    .bind(incident_id)
    .fetch_optional(tx)
    .await
}

/// One concern counted into its month: reported, closed, or closed no longer.
pub struct Count<'a> {
    pub rollup: Rollup<'a>,
    pub at: DateTime<Utc>,
    pub category: &'a str,
    pub counted: Counted,
}

/// Adds to months' counts of concerns reported or closed at a school in a category, in one
/// statement however many (a rebuild's batch of reports).
pub async fn count(tx: &mut PgConnection, counts: &[Count<'_>]) -> Result<(), sqlx::Error> {
    let (reported, closed): (Vec<i32>, Vec<i32>) = counts
        .iter()
        .map(|count| match count.counted {
            Counted::Reported(n) => (n, 0),
            Counted::Closed(n) => (0, n),
        })
        .unzip();
    sqlx::query(
        "INSERT INTO monthly_counts (school_id, month, category, school_sees, reported, closed)
         SELECT school, date_trunc('month', at AT TIME ZONE 'UTC')::date, category, sees,
                sum(reported)::integer, sum(closed)::integer
           FROM UNNEST($1::text[], $2::timestamptz[], $3::text[], $4::boolean[], $5::integer[], $6::integer[])
                AS c(school, at, category, sees, reported, closed)
          GROUP BY 1, 2, 3, 4
         ON CONFLICT (school_id, month, category, school_sees) DO UPDATE
            SET reported = monthly_counts.reported + EXCLUDED.reported,
                closed = monthly_counts.closed + EXCLUDED.closed",
    )
    .bind(
        counts
            .iter()
            .map(|count| count.rollup.school_id)
            .collect::<Vec<_>>(),
    )
    .bind(counts.iter().map(|count| count.at).collect::<Vec<_>>())
    .bind(counts.iter().map(|count| count.category).collect::<Vec<_>>())
    .bind(
        counts
            .iter()
            .map(|count| count.rollup.school_sees)
            .collect::<Vec<_>>(),
    )
    .bind(&reported)
    .bind(&closed)
    .execute(tx)
    .await?;
    Ok(())
}

/// Only an open concern's steps can be overdue.
pub async fn steps_of_open_concern(
    tx: &mut PgConnection,
    incident_id: Uuid,
    open: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE concern_steps SET concern_open = $2 WHERE incident_id = $1")
        .bind(incident_id)
        .bind(open)
        .execute(tx)
        .await?;
    Ok(())
}

/// The read model's tables, parents before children.
pub const TABLES: &[&str] = &[
    "concerns",
    "concern_steps",
    "monthly_counts",
    "monthly_acknowledgements",
];
