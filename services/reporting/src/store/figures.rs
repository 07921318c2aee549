//! The read model's figures and case list. Figures over a period sum the monthly rollups the projection keeps;
//! figures as things stand count the open concerns and open steps (partial indexes) by school and,
//! through `GROUPING SETS`, over all the schools asked for at once.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::domain::acknowledgement::median_minutes;
use crate::domain::audience::Audience;
use crate::domain::suppression::Figures;

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

/// Concerns reported in the months [`from`, `until`) (first days of months) at `schools`, read from
/// the monthly rollups; states as at `now`, read from the open concerns only; of the concerns
/// `audience` may count (the rollups keep apart those only the trust may; the few naming the viewer
/// as alleged are taken out of them here).
pub async fn dashboard(
    pool: &PgPool,
    schools: &[String],
    (from, until): (NaiveDate, NaiveDate),
    now: DateTime<Utc>,
    audience: &Audience,
) -> Result<Dashboard, sqlx::Error> {
    let mut dashboard = Dashboard::default();
    let everything = *audience == Audience::Trust;
    let alleged_as = match audience {
        Audience::Trust => "",
        Audience::SchoolStaff { alleged_as } => alleged_as.as_str(),
    };
    // As things stand: $1 the schools, $2 now, $3 whether every concern counts, $4 the viewer as
    // an alleged person is named (for school staff).
    let as_now = |sql: &'static str| {
        sqlx::query(sql)
            .bind(schools)
            .bind(now)
            .bind(everything)
            .bind(alleged_as)
            .fetch_all(pool)
    };
    let (counts, acknowledgements, ages, overdue_acknowledgements, overdue_steps) = tokio::try_join!(
        sqlx::query(
            "SELECT school_id, category, to_char(month, 'YYYY-MM') AS month,
                    sum(reported)::bigint AS reported, sum(closed)::bigint AS closed
               FROM monthly_counts
              WHERE school_id = ANY ($1) AND month >= $2 AND month < $3 AND ($4 OR school_sees)
              GROUP BY GROUPING SETS ((school_id, category), (category), (school_id, month), (month))"
        )
        .bind(schools)
        .bind(from)
        .bind(until)
        .bind(everything)
        .fetch_all(pool),
        sqlx::query(
            "SELECT school_id, buckets FROM monthly_acknowledgements
              WHERE school_id = ANY ($1) AND month >= $2 AND month < $3 AND ($4 OR school_sees)"
        )
        .bind(schools)
        .bind(from)
        .bind(until)
        .bind(everything)
        .fetch_all(pool),
        as_now(
            "SELECT school_id, key, count(*) AS n FROM (
                 SELECT school_id, CASE WHEN reported_at > $2 - interval '8 days' THEN '0_7_days'
                                        WHEN reported_at > $2 - interval '31 days' THEN '8_30_days'
                                        WHEN reported_at > $2 - interval '91 days' THEN '31_90_days'
                                        ELSE 'over_90_days' END AS key
                   FROM concerns WHERE school_id = ANY ($1) AND status <> 'closed'
                    AND ($3 OR (handled_by <> 'trust_lead' AND NOT ($4 = ANY (alleged))))) open
              GROUP BY GROUPING SETS ((school_id, key), (key))"
        ),
        as_now(
            "SELECT school_id, count(*) AS n FROM concerns
              WHERE school_id = ANY ($1) AND status <> 'closed' AND status = 'reported' AND acknowledge_by < $2
                AND ($3 OR (handled_by <> 'trust_lead' AND NOT ($4 = ANY (alleged))))
              GROUP BY GROUPING SETS ((school_id), ())"
        ),
        as_now(
            "SELECT school_id, count(*) AS n FROM concern_steps s
              WHERE school_id = ANY ($1) AND completed_at IS NULL AND concern_open AND due_at < $2
                AND ($3 OR NOT EXISTS (
                    SELECT 1 FROM concerns c WHERE c.incident_id = s.incident_id
                       AND (c.handled_by = 'trust_lead' OR $4 = ANY (c.alleged))))
              GROUP BY GROUPING SETS ((school_id), ())"
        ),
    )?;
    for school in schools {
        dashboard.of(Some(school.clone()));
    }
    // Each row is a category's count or a month's, for a school or (no school) in total.
    for row in counts {
        let figures = dashboard.of(row.try_get("school_id")?);
        let (reported, closed): (i64, i64) = (row.try_get("reported")?, row.try_get("closed")?);
        if let Some(category) = row.try_get::<Option<String>, _>("category")? {
            add(&mut figures.concerns_by_category, category, reported);
        }
        if let Some(month) = row.try_get::<Option<String>, _>("month")? {
            add(&mut figures.opened_by_month, month.clone(), reported);
            add(&mut figures.closed_by_month, month, closed);
        }
    }
    let mut histograms: BTreeMap<Option<String>, Vec<i64>> = BTreeMap::new();
    for row in acknowledgements {
        let school: String = row.try_get("school_id")?;
        let buckets: Vec<i32> = row.try_get("buckets")?;
        for key in [Some(school), None] {
            let histogram = histograms.entry(key).or_insert_with(|| vec![0; buckets.len()]);
            for (total, n) in histogram.iter_mut().zip(&buckets) {
                *total += i64::from(*n);
            }
        }
    }
    if !everything {
        take_out_alleged(
            pool,
            schools,
            (from, until),
            alleged_as,
            &mut dashboard,
            &mut histograms,
        )
        .await?;
    }
    for (school, histogram) in histograms {
        let figures = dashboard.of(school);
        figures.acknowledged = histogram.iter().sum();
        figures.median_minutes_to_acknowledge = median_minutes(&histogram);
    }
    for row in ages {
        let n = row.try_get("n")?;
        dashboard
            .of(row.try_get("school_id")?)
            .open_by_age
            .insert(row.try_get("key")?, n);
    }
    for row in overdue_acknowledgements {
        dashboard.of(row.try_get("school_id")?).overdue_acknowledgements = row.try_get("n")?;
    }
    for row in overdue_steps {
        dashboard.of(row.try_get("school_id")?).overdue_steps = row.try_get("n")?;
    }
    Ok(dashboard)
}

/// Takes the concerns naming the viewer as alleged (`alleged_as`) out of the figures over a period,
/// school by school and in total: the rollups count them, and the viewer may not.
async fn take_out_alleged(
    pool: &PgPool,
    schools: &[String],
    (from, until): (NaiveDate, NaiveDate),
    alleged_as: &str,
    dashboard: &mut Dashboard,
    histograms: &mut BTreeMap<Option<String>, Vec<i64>>,
) -> Result<(), sqlx::Error> {
    let rows = sqlx::query(
        "SELECT school_id, category,
                to_char(reported_at AT TIME ZONE 'UTC', 'YYYY-MM') AS reported_month,
                reported_at >= $2 AND reported_at < $3 AS reported_in_period,
                to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM') AS closed_month,
                coalesce(closed_at >= $2 AND closed_at < $3, false) AS closed_in_period,
                acknowledgement_bucket(floor(extract(epoch FROM acknowledged_at - reported_at) / 60)::integer) AS bucket
           FROM concerns
          WHERE school_id = ANY ($1) AND handled_by <> 'trust_lead' AND $4 = ANY (alleged)
            AND (reported_at >= $2 AND reported_at < $3 OR closed_at >= $2 AND closed_at < $3)",
    )
    .bind(schools)
    .bind(from.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
    .bind(until.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
    .bind(alleged_as)
    .fetch_all(pool)
    .await?;
    for row in rows {
        let school: String = row.try_get("school_id")?;
        let category: String = row.try_get("category")?;
        for key in [Some(school.clone()), None] {
            let figures = dashboard.of(key.clone());
            if row.try_get("reported_in_period")? {
                add(&mut figures.concerns_by_category, category.clone(), -1);
                add(&mut figures.opened_by_month, row.try_get("reported_month")?, -1);
                // Acknowledged: its time is in its reporting month's histogram.
                if let (Some(bucket), Some(histogram)) =
                    (row.try_get::<Option<i32>, _>("bucket")?, histograms.get_mut(&key))
                    && let Some(n) = histogram.get_mut(bucket as usize - 1)
                {
                    *n -= 1;
                }
            }
            if row.try_get("closed_in_period")? {
                add(&mut figures.closed_by_month, row.try_get("closed_month")?, -1);
            }
        }
    }
    Ok(())
}

/// Adds `n` to a count, leaving out keys with nothing in them.
fn add(counts: &mut BTreeMap<String, i64>, key: String, n: i64) {
    let total = counts.get(&key).copied().unwrap_or(0) + n;
    if total == 0 {
        counts.remove(&key);
    } else {
        counts.insert(key, total);
    }
}

/// The trust's concerns (or only those with something overdue), newest first, after the position
/// (report time, pseudonym) of the last one of the previous page.
pub async fn cases(
    pool: &PgPool,
    trust_id: &str,
    after_pseudonym: Option<String>,
    overdue_only: bool,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Case>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT * FROM (
             SELECT c.incident_id, c.pseudonym, c.school_id, c.category, c.status, c.reported_at, c.escalated,
                    c.status = 'reported' AND c.acknowledge_by < $4 AS acknowledgement_overdue,
                    (SELECT count(*) FROM concern_steps s
                      WHERE s.incident_id = c.incident_id AND s.concern_open
                        AND s.completed_at IS NULL AND s.due_at < $4) AS overdue_steps
               FROM concerns c
              WHERE c.trust_id = $1
                AND ($2::text IS NULL OR (c.reported_at, c.pseudonym) <
                     (SELECT after.reported_at, after.pseudonym FROM concerns after
                       WHERE after.trust_id = $1 AND after.pseudonym = $2))
           ) cases
          WHERE NOT $5 OR acknowledgement_overdue OR overdue_steps > 0
          ORDER BY reported_at DESC, pseudonym DESC
          LIMIT $3",
    )
    .bind(trust_id)
    .bind(after_pseudonym)
    .bind(limit)
    .bind(now)
    .bind(overdue_only)
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
