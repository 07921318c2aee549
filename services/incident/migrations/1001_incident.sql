-- The incident service's own tables, beside the event store's (numbered from 1001 to stay apart).
-- All of them are derived from, or guard writes to, the event store: the events are the record.

-- One row per concern, kept in step with its stream in the same transaction as each append: what
-- lists filter and page on, and what decides who may see a concern in a list (the same rules as
-- domain::access, in SQL).
CREATE TABLE concerns (
    incident_id    UUID        PRIMARY KEY,
    school_id      TEXT        NOT NULL,
    category       TEXT        NOT NULL,
    status         TEXT        NOT NULL,
    -- Who handles it: dsl, dsl_and_headteacher or trust_lead.
    route          TEXT        NOT NULL,
    reported_by    TEXT        NOT NULL,
    -- MIS references of the people alleged to be involved: none of them sees the concern.
    alleged        TEXT[]      NOT NULL,
    escalated      BOOLEAN     NOT NULL,
    summary        TEXT        NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL,
    reported_at    TIMESTAMPTZ NOT NULL,
    acknowledge_by TIMESTAMPTZ NOT NULL,
    acknowledged_at TIMESTAMPTZ,
    -- The earliest deadline still to be met; NULL once closed. Overdue = next_deadline < now().
    next_deadline  TIMESTAMPTZ,
    version        BIGINT      NOT NULL
);

-- Lists page newest first by id (UUIDv7: time-ordered).
CREATE INDEX concerns_by_school ON concerns (school_id, incident_id DESC);

-- Each school's current DSL workflow (its stream is workflow-<school_id>); none yet: the defaults.
CREATE TABLE school_workflows (
    school_id TEXT   PRIMARY KEY,
    version   BIGINT NOT NULL,
    workflow  JSONB  NOT NULL
);

-- A create with an Idempotency-Key: the first request's body and its answer, written in the same
-- transaction as the concern, so a retry gets the same answer and never a second concern.
CREATE TABLE idempotency_keys (
    school_id  TEXT        NOT NULL,
    subject    TEXT        NOT NULL,
    key        TEXT        NOT NULL,
    request    JSONB       NOT NULL,
    status     SMALLINT,
    response   JSONB,
    location   TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, subject, key)
);

-- The concern opened for each escalated filtering breach: at most one per breach, however often the
-- escalation is delivered or repeated.
CREATE TABLE breach_concerns (
    breach_id   UUID PRIMARY KEY,
    incident_id UUID NOT NULL
);
