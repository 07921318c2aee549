-- The DfE duties, each table kept in step with its streams in the same transaction.

-- The filtering-policy change log: one row per change (`filter-change-<id>`), where it stands.
CREATE TABLE filter_changes (
    change_id    uuid PRIMARY KEY,
    school_id    text NOT NULL,
    state        text NOT NULL,
    proposed_at  timestamptz NOT NULL,
    applied_at   timestamptz,
    -- `domain::changes::Change`.
    change       jsonb NOT NULL,
    version      bigint NOT NULL
);
CREATE INDEX filter_changes_newest ON filter_changes (school_id, proposed_at DESC, change_id DESC);

-- Checks of the provision (`filter-checks-<school>`).
CREATE TABLE filter_checks (
    check_id     uuid PRIMARY KEY,
    school_id    text NOT NULL,
    checked_at   timestamptz NOT NULL,
    logged_at    timestamptz NOT NULL,
    -- The event's data, restricted part and all.
    record       jsonb NOT NULL
);
CREATE INDEX filter_checks_newest ON filter_checks (school_id, checked_at DESC, check_id DESC);

-- Annual reviews (`filter-reviews-<school>`).
CREATE TABLE filter_reviews (
    review_id       uuid PRIMARY KEY,
    school_id       text NOT NULL,
    reviewed_on     date NOT NULL,
    next_review_by  date NOT NULL,
    recorded_at     timestamptz NOT NULL,
    record          jsonb NOT NULL
);
CREATE INDEX filter_reviews_newest ON filter_reviews (school_id, reviewed_on DESC, recorded_at DESC);

-- Who holds the filtering and monitoring roles (`duty-roles-<school>`).
CREATE TABLE duty_roles (
    school_id  text PRIMARY KEY,
    holders    jsonb NOT NULL,
    named_at   timestamptz NOT NULL
);
