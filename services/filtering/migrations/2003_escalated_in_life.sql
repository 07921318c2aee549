-- Whether a breach was escalated is its life's (`life->'escalated'`); the column repeated it.
ALTER TABLE breaches DROP COLUMN escalated;
