-- Rollups the dashboards read instead of every concern: a trust of a hundred schools holds a million
-- concerns in a few years, and grouping them all on each request took 1.5 s (bench reporting). Periods
-- are whole months, so each figure over a period sums at most (schools × months × categories) rows.
-- The projection keeps them in the same transaction as the concerns; `refresh_rollups()` recomputes
-- them from the concerns (this migration's backfill, and the bench's generated million).

-- Reported and closed concerns per school, month (UTC) and category. A concern counts as reported in
-- the month it was reported, and as closed in the month it was (last) closed.
CREATE TABLE monthly_counts (
    school_id TEXT    NOT NULL,
    month     DATE    NOT NULL,
    category  TEXT    NOT NULL,
    reported  INTEGER NOT NULL DEFAULT 0,
    closed    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, month, category)
);

-- How long acknowledgement took, as a histogram per school and month reported: whole minutes under two
-- hours, quarter hours under a day, three hours under a week, days under thirty days, then one bucket.
-- The median is read from it (exact to those steps); the service knows each bucket's lower bound.
CREATE FUNCTION acknowledgement_bucket(minutes INTEGER) RETURNS INTEGER
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN minutes < 0 THEN 1
                WHEN minutes < 120 THEN 1 + minutes
                WHEN minutes < 1440 THEN 121 + (minutes - 120) / 15
                WHEN minutes < 10080 THEN 209 + (minutes - 1440) / 180
                WHEN minutes < 43200 THEN 257 + (minutes - 10080) / 1440
                ELSE 280 END;

CREATE TABLE monthly_acknowledgements (
    school_id TEXT      NOT NULL,
    month     DATE      NOT NULL,
    -- 280 counts, indexed by acknowledgement_bucket().
    buckets   INTEGER[] NOT NULL,
    PRIMARY KEY (school_id, month)
);

-- The "now" figures read open concerns and their open steps only, through partial indexes.
ALTER TABLE concern_steps
    ADD COLUMN school_id    TEXT,
    ADD COLUMN concern_open BOOLEAN NOT NULL DEFAULT true;
UPDATE concern_steps s SET school_id = c.school_id, concern_open = c.status <> 'closed'
  FROM concerns c WHERE c.incident_id = s.incident_id;
ALTER TABLE concern_steps ALTER COLUMN school_id SET NOT NULL;
CREATE INDEX overdue_steps ON concern_steps (school_id, due_at) WHERE completed_at IS NULL AND concern_open;
DROP INDEX open_steps;

DROP INDEX open_concerns;
DROP INDEX concerns_by_school;
CREATE INDEX open_concerns ON concerns (school_id, reported_at) INCLUDE (status, acknowledge_by)
    WHERE status <> 'closed';

CREATE FUNCTION refresh_rollups() RETURNS void LANGUAGE sql BEGIN ATOMIC
    DELETE FROM monthly_counts;
    DELETE FROM monthly_acknowledgements;
    INSERT INTO monthly_counts (school_id, month, category, reported, closed)
    SELECT school_id, month, category, sum(reported), sum(closed) FROM (
        SELECT school_id, date_trunc('month', reported_at AT TIME ZONE 'UTC')::date AS month, category,
               1 AS reported, 0 AS closed
          FROM concerns
        UNION ALL
        SELECT school_id, date_trunc('month', closed_at AT TIME ZONE 'UTC')::date, category, 0, 1
          FROM concerns WHERE closed_at IS NOT NULL
    ) counted
    GROUP BY school_id, month, category;
    INSERT INTO monthly_acknowledgements (school_id, month, buckets)
    WITH acknowledged AS (
        SELECT school_id, date_trunc('month', reported_at AT TIME ZONE 'UTC')::date AS month,
               acknowledgement_bucket(floor(extract(epoch FROM acknowledged_at - reported_at) / 60)::integer) AS bucket,
               count(*)::integer AS n
          FROM concerns WHERE acknowledged_at IS NOT NULL
         GROUP BY 1, 2, 3
    )
    SELECT months.school_id, months.month, array_agg(coalesce(acknowledged.n, 0) ORDER BY slot.bucket)
      FROM (SELECT DISTINCT school_id, month FROM acknowledged) months
     CROSS JOIN generate_series(1, 280) AS slot(bucket)
      LEFT JOIN acknowledged ON acknowledged.school_id = months.school_id AND acknowledged.month = months.month
                            AND acknowledged.bucket = slot.bucket
     GROUP BY months.school_id, months.month;
END;

SELECT refresh_rollups();
