-- The system of record of one service: its events, and the outbox the relay publishes from.

CREATE TABLE events (
    -- Order of insertion, visible at commit: NOT a safe cursor (see the relay).
    global_position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        UUID        NOT NULL UNIQUE,
    stream_id       TEXT        NOT NULL,
    stream_version  BIGINT      NOT NULL CHECK (stream_version >= 1),
    event_type      TEXT        NOT NULL,
    trust_id        TEXT        NOT NULL,
    school_id       TEXT,
    occurred_at     TIMESTAMPTZ NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- actor, correlation and causation ids, trace context
    metadata        JSONB       NOT NULL,
    data            JSONB       NOT NULL,
    -- A second writer of the same version is an optimistic-concurrency conflict.
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);

-- Unpublished events, written in the append's transaction. The relay deletes a row once the broker
-- has acknowledged it, so "unpublished" is simply "present": a late-committing transaction's rows
-- appear here whenever they commit and can never be skipped.
CREATE TABLE outbox (
    global_position BIGINT PRIMARY KEY REFERENCES events (global_position),
    topic           TEXT NOT NULL
);

-- Consumer side: effects happen once per event id, checkpoints say how far each partition got,
-- and records that cannot be read are parked instead of blocking their partition.
CREATE TABLE processed_events (
    consumer     TEXT        NOT NULL,
    event_id     UUID        NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE consumer_checkpoints (
    consumer    TEXT        NOT NULL,
    topic       TEXT        NOT NULL,
    partition   INTEGER     NOT NULL,
    next_offset BIGINT      NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic, partition)
);

CREATE TABLE dead_letters (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consumer    TEXT        NOT NULL,
    topic       TEXT        NOT NULL,
    partition   INTEGER     NOT NULL,
    "offset"    BIGINT      NOT NULL,
    record_key  BYTEA,
    headers     JSONB       NOT NULL,
    payload     BYTEA,
    error       TEXT        NOT NULL,
    parked_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (consumer, topic, partition, "offset")
);

-- Wake the relay at commit. Statement-level, and notifications of one transaction collapse into one,
-- so this costs an append no extra round trip.
CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('trustsafe_outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
