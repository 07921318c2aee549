-- The reporting service's read models, fed from trustsafe.incident.v1 by the consumer kit (which keeps
-- processed_events, checkpoints and dead letters in the event store's tables beside these). Everything
-- here can be emptied and rebuilt from the log (`trustsafe replay reporting`). No narrative and no
-- names ever reach this database: the incident service never publishes them.

-- One row per concern: facts only.
CREATE TABLE concerns (
    incident_id     UUID        PRIMARY KEY,
    trust_id        TEXT        NOT NULL,
    school_id       TEXT        NOT NULL,
    category        TEXT        NOT NULL,
    status          TEXT        NOT NULL,
    -- Stable, and not the incident id: what the trust's case list shows.
    pseudonym       TEXT        NOT NULL,
    reported_at     TIMESTAMPTZ NOT NULL,
    acknowledge_by  TIMESTAMPTZ NOT NULL,
    acknowledged_at TIMESTAMPTZ,
    closed_at       TIMESTAMPTZ,
    escalated       BOOLEAN     NOT NULL DEFAULT false
);

CREATE INDEX concerns_by_school ON concerns (school_id, reported_at);
CREATE INDEX concerns_by_trust ON concerns (trust_id, reported_at DESC, pseudonym DESC);
CREATE INDEX open_concerns ON concerns (school_id) WHERE status <> 'closed';

-- The required steps of each concern and their deadlines.
CREATE TABLE concern_steps (
    incident_id  UUID        NOT NULL REFERENCES concerns ON DELETE CASCADE,
    step_id      TEXT        NOT NULL,
    due_at       TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    PRIMARY KEY (incident_id, step_id)
);

CREATE INDEX open_steps ON concern_steps (incident_id) WHERE completed_at IS NULL AND due_at IS NOT NULL;
