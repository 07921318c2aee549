//! Queries of the read model. Each figure is one statement grouped by school and, through
//! `GROUPING SETS`, over all the schools asked for at once: the totals come from the database.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// The figures of one school, or of several together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    pub concerns_by_category: BTreeMap<String, i64>,
    pub opened_by_month: BTreeMap<String, i64>,
    pub closed_by_month: BTreeMap<String, i64>,
    pub open_by_age: BTreeMap<String, i64>,
    pub overdue_acknowledgements: i64,
    pub overdue_steps: i64,
    pub median_minutes_to_acknowledge: Option<f64>,
}

/// Each school's figures, and all of them together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dashboard {
    pub schools: BTreeMap<String, Figures>,
    pub total: Figures,
}

impl Dashboard {
    fn of(&mut self, school: Option<String>) -> &mut Figures {
        match school {
            Some(school) => self.schools.entry(school).or_default(),
            None => &mut self.total,
        }
    }
}

/// The bands open concerns are counted in, by days since reported.
pub const AGE_BANDS: [&str; 4] = ["0_7_days", "8_30_days", "31_90_days", "over_90_days"];

/// One row of the trust's case list.
pub struct Case {
    pub incident_id: Uuid,
    pub pseudonym: String,
    pub school_id: String,
    pub category: String,
    pub status: String,
    pub reported_at: DateTime<Utc>,
    pub acknowledgement_overdue: bool,
    pub overdue_steps: i64,
    pub escalated: bool,
}

/// Concerns reported in [`from`, `to`) at `schools`; states as at `now`.
pub async fn dashboard(
    pool: &PgPool,
    schools: &[String],
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
) -> Result<Dashboard, sqlx::Error> {
    let mut dashboard = Dashboard::default();
    // Reported (or closed) within the period: $1 the schools, $2 and $3 the period.
    let in_period = |sql: &'static str| sqlx::query(sql).bind(schools).bind(from).bind(to).fetch_all(pool);
    // As things stand: $1 the schools, $2 now.
    let as_now = |sql: &'static str| sqlx::query(sql).bind(schools).bind(now).fetch_all(pool);
    let (by_category, opened, closed, ages, acknowledgements, steps, medians) = tokio::try_join!(
        in_period(
            "SELECT school_id, category AS key, count(*) AS n FROM concerns
              WHERE school_id = ANY ($1) AND reported_at >= $2 AND reported_at < $3
              GROUP BY GROUPING SETS ((school_id, category), (category))"
        ),
        in_period(
            "SELECT school_id, to_char(reported_at AT TIME ZONE 'UTC', 'YYYY-MM') AS key, count(*) AS n FROM concerns
              WHERE school_id = ANY ($1) AND reported_at >= $2 AND reported_at < $3
              GROUP BY GROUPING SETS ((school_id, key), (key))"
        ),
        in_period(
            "SELECT school_id, to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM') AS key, count(*) AS n FROM concerns
              WHERE school_id = ANY ($1) AND closed_at >= $2 AND closed_at < $3
              GROUP BY GROUPING SETS ((school_id, key), (key))"
        ),
        as_now(
            "SELECT school_id, key, count(*) AS n FROM (
                 SELECT school_id, CASE WHEN reported_at > $2 - interval '8 days' THEN '0_7_days'
                                        WHEN reported_at > $2 - interval '31 days' THEN '8_30_days'
                                        WHEN reported_at > $2 - interval '91 days' THEN '31_90_days'
                                        ELSE 'over_90_days' END AS key
                   FROM concerns WHERE school_id = ANY ($1) AND status <> 'closed') open
              GROUP BY GROUPING SETS ((school_id, key), (key))"
        ),
        as_now(
            "SELECT school_id, count(*) AS n FROM concerns
              WHERE school_id = ANY ($1) AND status = 'reported' AND acknowledge_by < $2
              GROUP BY GROUPING SETS ((school_id), ())"
        ),
        as_now(
            "SELECT c.school_id, count(*) AS n FROM concern_steps s JOIN concerns c USING (incident_id)
              WHERE c.school_id = ANY ($1) AND c.status <> 'closed' AND s.completed_at IS NULL AND s.due_at < $2
              GROUP BY GROUPING SETS ((c.school_id), ())"
        ),
        in_period(
            "SELECT school_id, percentile_cont(0.5) WITHIN GROUP
                        (ORDER BY extract(epoch FROM acknowledged_at - reported_at) / 60) AS median
               FROM concerns
              WHERE school_id = ANY ($1) AND reported_at >= $2 AND reported_at < $3 AND acknowledged_at IS NOT NULL
              GROUP BY GROUPING SETS ((school_id), ())"
        ),
    )?;
    let counted: [(_, fn(&mut Figures) -> &mut BTreeMap<String, i64>); 4] = [
        (by_category, |f| &mut f.concerns_by_category),
        (opened, |f| &mut f.opened_by_month),
        (closed, |f| &mut f.closed_by_month),
        (ages, |f| &mut f.open_by_age),
    ];
    for (rows, figure) in counted {
        for row in rows {
            figure(dashboard.of(row.try_get("school_id")?)).insert(row.try_get("key")?, row.try_get("n")?);
        }
    }
    for row in acknowledgements {
        dashboard.of(row.try_get("school_id")?).overdue_acknowledgements = row.try_get("n")?;
    }
    for row in steps {
        dashboard.of(row.try_get("school_id")?).overdue_steps = row.try_get("n")?;
    }
    for row in medians {
        dashboard
            .of(row.try_get("school_id")?)
            .median_minutes_to_acknowledge = row.try_get("median")?;
    }
    for school in schools {
        dashboard.of(Some(school.clone()));
    }
    Ok(dashboard)
}

/// The trust's concerns, newest first, after the position (report time, pseudonym) of the last one
/// of the previous page.
pub async fn cases(
    pool: &PgPool,
    trust_id: &str,
    after: Option<(DateTime<Utc>, String)>,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Case>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT c.incident_id, c.pseudonym, c.school_id, c.category, c.status, c.reported_at, c.escalated,
                c.status = 'reported' AND c.acknowledge_by < $4 AS acknowledgement_overdue,
                (SELECT count(*) FROM concern_steps s
                  WHERE s.incident_id = c.incident_id AND c.status <> 'closed'
                    AND s.completed_at IS NULL AND s.due_at < $4) AS overdue_steps
           FROM concerns c
          WHERE c.trust_id = $1 AND ($2::timestamptz IS NULL OR (c.reported_at, c.pseudonym) < ($2, $5))
          ORDER BY c.reported_at DESC, c.pseudonym DESC
          LIMIT $3",
    )
    .bind(trust_id)
    .bind(after.as_ref().map(|(at, _)| *at))
    .bind(limit)
    .bind(now)
    .bind(
        after
            .as_ref()
            .map(|(_, pseudonym)| pseudonym.as_str())
            .unwrap_or_default(),
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Case {
                incident_id: row.try_get("incident_id")?,
                pseudonym: row.try_get("pseudonym")?,
                school_id: row.try_get("school_id")?,
                category: row.try_get("category")?,
                status: row.try_get("status")?,
                reported_at: row.try_get("reported_at")?,
                acknowledgement_overdue: row.try_get("acknowledgement_overdue")?,
                overdue_steps: row.try_get("overdue_steps")?,
                escalated: row.try_get("escalated")?,
            })
        })
        .collect()
}
