-- How far each consumer has applied each stream. A stream's events take effect in version order,
-- one after another, whatever order the log delivers them in: a record that skips a version waits
-- in dead_letters (waiting_for: the version it needs first) and is applied when that one has been.
CREATE TABLE stream_positions (
    consumer  TEXT   NOT NULL,
    stream_id TEXT   NOT NULL,
    version   BIGINT NOT NULL,
    PRIMARY KEY (consumer, stream_id)
);

-- What a parked record is, when it could be read: a copy of a parked event is known as one, and a
-- waiting record is found by its stream.
ALTER TABLE dead_letters
    ADD COLUMN event_id       UUID,
    ADD COLUMN stream_id      TEXT,
    ADD COLUMN stream_version BIGINT,
    ADD COLUMN waiting_for    BIGINT;
CREATE INDEX dead_letters_by_event ON dead_letters (consumer, event_id);
CREATE INDEX dead_letters_waiting ON dead_letters (consumer, stream_id) WHERE waiting_for IS NOT NULL;

-- Consumers that ran before positions were kept learn them by reading their topics once more at
-- their next start, as a rebuild that stopped part-way is finished: nothing is reset, the dedup
-- rows pass over what was applied, and each stream's position follows.
INSERT INTO rebuilds (consumer) SELECT DISTINCT consumer FROM consumer_checkpoints ON CONFLICT DO NOTHING;
