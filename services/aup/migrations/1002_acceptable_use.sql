-- Acceptable use: policy documents and their versions, and each person's answers, kept in step with
-- the streams `aup-document-<id>` and `agreement-<id>` in the same transaction.

-- One document per audience, trust-wide (no school) or one school's own.
CREATE TABLE aup_documents (
    document_id UUID PRIMARY KEY,
    trust_id    TEXT NOT NULL,
    school_id   TEXT,
    audience    TEXT NOT NULL
);

CREATE UNIQUE INDEX aup_documents_one_per_audience ON aup_documents (trust_id, coalesce(school_id, ''), audience);

-- Every version, readable for good: the aup.published.v1 event, its text included.
CREATE TABLE aup_versions (
    document_id UUID    NOT NULL REFERENCES aup_documents (document_id),
    version     INTEGER NOT NULL,
    record      JSONB   NOT NULL,
    PRIMARY KEY (document_id, version)
);

-- Every answer (agreed or declined), and who entered it.
CREATE TABLE agreements (
    agreement_id UUID        PRIMARY KEY,
    person_id    UUID        NOT NULL REFERENCES people (id),
    school_id    TEXT        NOT NULL,
    audience     TEXT        NOT NULL,
    signed_at    TIMESTAMPTZ NOT NULL,
    record       JSONB       NOT NULL,
    recorded_by  TEXT        NOT NULL
);

-- A person's standing is read from their latest answer per audience.
CREATE INDEX agreements_latest ON agreements (school_id, person_id, audience, signed_at DESC);
