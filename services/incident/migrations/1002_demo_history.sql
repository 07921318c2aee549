-- `trustsafe dev`'s demo history: the clock it was first written against, whether it is finished, and
-- which demo concerns are written, so that a first start interrupted part-way (Ctrl-C while it writes)
-- finishes the same history on its next start instead of skipping it. Empty in production.
CREATE TABLE demo_history (
    singleton BOOLEAN     PRIMARY KEY DEFAULT true CHECK (singleton),
    as_of     TIMESTAMPTZ NOT NULL,
    finished  BOOLEAN     NOT NULL DEFAULT false
);

CREATE TABLE demo_history_concerns (
    school_id TEXT    NOT NULL,
    ordinal   INTEGER NOT NULL,
    PRIMARY KEY (school_id, ordinal)
);
