-- People, policies, answers, grants and visits as the shared log tells them: ids, kinds, year groups
-- and flags, never names. The acceptable-use figures are counted from these by the aup service's rules.
-- Fed by the consumer group reporting.acceptable_use.
CREATE TABLE aup_roster (
    person_id  uuid PRIMARY KEY,
    school_id  text NOT NULL,
    -- The aup.person_recorded event as published, without its account hashes.
    record     jsonb NOT NULL,
    removed    boolean NOT NULL DEFAULT false
);
CREATE INDEX aup_roster_by_school ON aup_roster (school_id) WHERE NOT removed;

CREATE TABLE aup_policies (
    document_id  uuid NOT NULL,
    version      integer NOT NULL,
    trust_id     text NOT NULL,
    record       jsonb NOT NULL,
    PRIMARY KEY (document_id, version)
);
CREATE INDEX aup_policies_by_trust ON aup_policies (trust_id);

CREATE TABLE aup_answers (
    agreement_id  uuid PRIMARY KEY,
    school_id     text NOT NULL,
    record        jsonb NOT NULL
);
CREATE INDEX aup_answers_by_school ON aup_answers (school_id);

CREATE TABLE aup_grants (
    grant_id    uuid PRIMARY KEY,
    school_id   text NOT NULL,
    person_id   uuid NOT NULL,
    granted_at  timestamptz NOT NULL,
    revoked     boolean NOT NULL DEFAULT false
);
CREATE INDEX aup_grants_by_school ON aup_grants (school_id);

CREATE TABLE aup_visits (
    visitor_id  uuid PRIMARY KEY,
    school_id   text NOT NULL,
    agreed_at   timestamptz NOT NULL
);
CREATE INDEX aup_visits_by_school ON aup_visits (school_id, agreed_at);
