-- Access that follows from agreements, kept in step with the streams `grant-<id>`, `loan-<id>` and
-- `visitor-<id>`.

-- Who has access to what, since when, on whose say-so (RAPS 7.2, Claremont 5.3).
CREATE TABLE access_grants (
    grant_id   UUID        PRIMARY KEY,
    school_id  TEXT        NOT NULL,
    person_id  UUID        NOT NULL REFERENCES people (id),
    system     TEXT        NOT NULL,
    granted_at TIMESTAMPTZ NOT NULL,
    granted_by TEXT        NOT NULL,
    revoked_at TIMESTAMPTZ,
    revoked_by TEXT
);

CREATE INDEX access_grants_by_school ON access_grants (school_id, granted_at);

-- Numbered devices lent and returned (RAPS 7.1).
CREATE TABLE device_loans (
    loan_id     UUID        PRIMARY KEY,
    school_id   TEXT        NOT NULL,
    device      TEXT        NOT NULL,
    person_id   UUID        NOT NULL REFERENCES people (id),
    lent_at     TIMESTAMPTZ NOT NULL,
    lent_by     TEXT        NOT NULL,
    returned_at TIMESTAMPTZ,
    returned_by TEXT
);

-- A device is out to one person at a time.
CREATE UNIQUE INDEX device_loans_one_out ON device_loans (school_id, device) WHERE returned_at IS NULL;

-- Visitors who agreed, and their Wi-Fi code, kept only as its SHA-256: a read of this table
-- gives no working code, and a code is never issued twice.
CREATE TABLE visitors (
    visitor_id  UUID        PRIMARY KEY,
    school_id   TEXT        NOT NULL,
    record      JSONB       NOT NULL,
    code_hash   TEXT        NOT NULL UNIQUE,
    expires_at  TIMESTAMPTZ NOT NULL,
    recorded_by TEXT        NOT NULL
);
