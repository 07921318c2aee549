-- Who is on each school's roster, as trustsafe.aup.v1 tells it (consumer group incident.roster): an id,
-- a school and a kind, and nothing else about a person. A report that names someone by roster id is
-- checked against it; who they are is the aup service's to say.
CREATE TABLE roster (
    person_id  UUID    PRIMARY KEY,
    school_id  TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    removed    BOOLEAN NOT NULL DEFAULT false
);
