-- Filtering breaches as the shared log tells them (no one named, no address): what the trust lead's
-- filtering figures are read from. Fed by the consumer group reporting.breaches.
CREATE TABLE breaches (
    breach_id            uuid PRIMARY KEY,
    trust_id             text NOT NULL,
    school_id            text NOT NULL,
    category             text NOT NULL,
    severity             smallint NOT NULL,
    source               text NOT NULL,
    first_seen           timestamptz NOT NULL,
    recorded_at          timestamptz NOT NULL,
    pupil                boolean NOT NULL DEFAULT false,
    year_group           smallint,
    triage_by            timestamptz NOT NULL,
    triaged_at           timestamptz,
    verdict              text,
    parents_by           timestamptz,
    parents_informed_at  timestamptz,
    escalated            boolean NOT NULL DEFAULT false,
    resolved_at          timestamptz
);
CREATE INDEX breaches_by_school ON breaches (school_id, first_seen);
CREATE INDEX breaches_open ON breaches (school_id) WHERE resolved_at IS NULL;
