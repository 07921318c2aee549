-- Breaches, kept in step with their streams (`breach-<id>`) in the same transaction.
CREATE TABLE breaches (
    id            uuid PRIMARY KEY,
    school_id     text NOT NULL,
    -- What sightings are gathered by: the account (lower-cased) or else the client, the host, the category.
    who           text NOT NULL,
    host          text NOT NULL,
    category      text NOT NULL,
    severity      smallint NOT NULL,
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    count         integer NOT NULL,
    account_hash  text,
    person_id     uuid,
    escalated     boolean NOT NULL DEFAULT false,
    -- Where it stands (`domain::life::Life`), and the earliest deadline it still owes.
    life          jsonb NOT NULL,
    next_due      timestamptz,
    resolved      boolean NOT NULL DEFAULT false,
    version       bigint NOT NULL,
    -- The breach as recorded (the event's data, restricted part and all), updated as it changes.
    record        jsonb NOT NULL
);
CREATE INDEX breaches_gathering ON breaches (school_id, who, host, category, first_seen DESC);
CREATE INDEX breaches_newest ON breaches (school_id, first_seen DESC, id DESC);
CREATE INDEX breaches_due ON breaches (school_id, next_due) WHERE next_due IS NOT NULL;
CREATE INDEX breaches_unattributed ON breaches (school_id, account_hash)
    WHERE person_id IS NULL AND account_hash IS NOT NULL;

-- Every request a filter logged, counted by hour, category and action: the filter at work.
CREATE TABLE filter_hours (
    school_id  text NOT NULL,
    hour       timestamptz NOT NULL,
    category   text NOT NULL,
    action     text NOT NULL,
    requests   bigint NOT NULL,
    PRIMARY KEY (school_id, hour, category, action)
);

-- Each upload once: the same bytes again answer as the first time and change nothing.
CREATE TABLE uploads (
    school_id    text NOT NULL,
    digest       text NOT NULL,
    format       text NOT NULL,
    received_at  timestamptz NOT NULL,
    answer       jsonb NOT NULL,
    PRIMARY KEY (school_id, digest)
);

-- Directory accounts as the roster's events name them (keyed hashes), learned from trustsafe.aup.v1.
CREATE TABLE roster_accounts (
    school_id     text NOT NULL,
    account_hash  text NOT NULL,
    person_id     uuid NOT NULL,
    kind          text NOT NULL,
    year_group    smallint,
    PRIMARY KEY (school_id, account_hash)
);
CREATE INDEX roster_accounts_person ON roster_accounts (person_id);

-- A school's own vendor-category rules, in front of the built-in ones.
CREATE TABLE category_rules (
    school_id  text NOT NULL,
    vendor     text NOT NULL,
    category   text NOT NULL,
    severity   smallint NOT NULL,
    PRIMARY KEY (school_id, vendor)
);
