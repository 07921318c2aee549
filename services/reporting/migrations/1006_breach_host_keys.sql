-- A breach's host as the log keys it (an HMAC within the trust, never the host): the same host at two
-- schools of a trust is a pattern the trust lead is shown.
ALTER TABLE breaches ADD COLUMN host_key text;
CREATE INDEX breaches_by_host_key ON breaches (trust_id, host_key, first_seen) WHERE host_key IS NOT NULL;
