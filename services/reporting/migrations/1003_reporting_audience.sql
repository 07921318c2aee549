-- Who may know of each concern, from the log (incident.reported.v2): one handled by the trust lead
-- alone (it is about the DSL or the headteacher) is counted in no figure the school's own staff see,
-- and one naming someone as alleged (their keyed pseudonym) in none that person sees. The rollups keep
-- the two audiences apart; rows from before this migration are taken as the school's to see, and a
-- rebuild (`trustsafe replay reporting`) sets them right from the log.
ALTER TABLE concerns
    ADD COLUMN handled_by TEXT   NOT NULL DEFAULT 'dsl',
    ADD COLUMN alleged    TEXT[] NOT NULL DEFAULT '{}';
CREATE INDEX concerns_alleged ON concerns USING gin (alleged);

ALTER TABLE monthly_counts ADD COLUMN school_sees BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE monthly_counts DROP CONSTRAINT monthly_counts_pkey,
    ADD PRIMARY KEY (school_id, month, category, school_sees);
ALTER TABLE monthly_acknowledgements ADD COLUMN school_sees BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE monthly_acknowledgements DROP CONSTRAINT monthly_acknowledgements_pkey,
    ADD PRIMARY KEY (school_id, month, school_sees);

CREATE OR REPLACE FUNCTION refresh_rollups() RETURNS void LANGUAGE sql BEGIN ATOMIC
    DELETE FROM monthly_counts;
    DELETE FROM monthly_acknowledgements;
    INSERT INTO monthly_counts (school_id, month, category, school_sees, reported, closed)
    SELECT school_id, month, category, school_sees, sum(reported), sum(closed) FROM (
        SELECT school_id, date_trunc('month', reported_at AT TIME ZONE 'UTC')::date AS month, category,
               handled_by <> 'trust_lead' AS school_sees, 1 AS reported, 0 AS closed
          FROM concerns
        UNION ALL
        SELECT school_id, date_trunc('month', closed_at AT TIME ZONE 'UTC')::date, category,
               handled_by <> 'trust_lead', 0, 1
          FROM concerns WHERE closed_at IS NOT NULL
    ) counted
    GROUP BY school_id, month, category, school_sees;
    INSERT INTO monthly_acknowledgements (school_id, month, school_sees, buckets)
    WITH acknowledged AS (
        SELECT school_id, date_trunc('month', reported_at AT TIME ZONE 'UTC')::date AS month,
               handled_by <> 'trust_lead' AS school_sees,
               acknowledgement_bucket(floor(extract(epoch FROM acknowledged_at - reported_at) / 60)::integer) AS bucket,
               count(*)::integer AS n
          FROM concerns WHERE acknowledged_at IS NOT NULL
         GROUP BY 1, 2, 3, 4
    )
    SELECT months.school_id, months.month, months.school_sees,
           array_agg(coalesce(acknowledged.n, 0) ORDER BY slot.bucket)
      FROM (SELECT DISTINCT school_id, month, school_sees FROM acknowledged) months
     CROSS JOIN generate_series(1, 280) AS slot(bucket)
      LEFT JOIN acknowledged ON acknowledged.school_id = months.school_id AND acknowledged.month = months.month
                            AND acknowledged.school_sees = months.school_sees AND acknowledged.bucket = slot.bucket
     GROUP BY months.school_id, months.month, months.school_sees;
END;
