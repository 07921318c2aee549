-- A projection being rebuilt, from its reset until its last record: while the row is here the live
-- consumer applies nothing (it would mark events processed against rows the reset removed), and a
-- row left by a rebuild that died part-way tells the next start to finish it.
CREATE TABLE rebuilds (
    consumer   TEXT        PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
