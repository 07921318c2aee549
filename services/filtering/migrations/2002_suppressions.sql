-- A school's suppression rules, kept in step with its `suppressions-<school>` stream.
CREATE TABLE suppressions (
    school_id  text NOT NULL,
    position   integer NOT NULL,
    host       text,
    phrase     text,
    reason     text NOT NULL,
    PRIMARY KEY (school_id, position)
);
