-- The roster: each person as last recorded, kept in step with their stream `person-<id>` in the
-- same transaction. The stream is the system of record (and the person's history); this table is
-- how a sync finds whom it already knows and how the lists are read.

CREATE TABLE people (
    id          UUID        PRIMARY KEY,
    school_id   TEXT        NOT NULL,
    kind        TEXT        NOT NULL,
    mis_id      TEXT        NOT NULL,
    -- Copied from the record for ordering and search.
    surname     TEXT,
    forename    TEXT,
    year_group  SMALLINT,
    -- Lists are in this order (surname, then forename), with the id to break ties.
    sort_name   TEXT GENERATED ALWAYS AS (lower(coalesce(surname, '') || ' ' || coalesce(forename, ''))) STORED,
    -- The last aup.person_recorded.v1 of the person, restricted part included.
    record      JSONB       NOT NULL,
    -- When the MIS's data was true: an older batch arriving late changes nothing.
    as_of       TIMESTAMPTZ NOT NULL,
    removed     BOOLEAN     NOT NULL DEFAULT false,
    -- The stream's version.
    version     BIGINT      NOT NULL,
    UNIQUE (school_id, kind, mis_id)
);

CREATE INDEX people_by_name ON people (school_id, sort_name, id);
