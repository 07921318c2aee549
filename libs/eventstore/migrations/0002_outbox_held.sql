-- A stream the relay cannot publish: its first unpublishable event (one the client or the broker
-- refuses for good, such as a record over the broker's size limit) and everything after it stay in
-- the outbox, in order, while every other stream goes on. An operator who has fixed the cause
-- deletes the row here and the relay tries again.
CREATE TABLE outbox_held (
    stream_id       TEXT        PRIMARY KEY,
    global_position BIGINT      NOT NULL REFERENCES events (global_position),
    reason          TEXT        NOT NULL,
    held_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
