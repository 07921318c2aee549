-- Each school's filtering and monitoring duties as the shared log tells them (no names): the roles named,
-- the latest check and review and when the next is due. Fed by the consumer group reporting.breaches.
CREATE TABLE filtering_duties (
    school_id         text PRIMARY KEY,
    trust_id          text NOT NULL,
    roles_named       text[] NOT NULL DEFAULT '{}',
    last_check_at     timestamptz,
    next_check_by     timestamptz,
    last_reviewed_on  date,
    next_review_by    date
);

-- Filtering-policy changes and where they stand: proposed, approved, rejected or applied.
CREATE TABLE filter_changes (
    change_id  uuid PRIMARY KEY,
    school_id  text NOT NULL,
    state      text NOT NULL
);
CREATE INDEX filter_changes_by_school ON filter_changes (school_id, state);
