-- A rebuild no longer holds the live consumer back: it fills fresh tables in a schema of its own
-- (rebuild_<consumer>) and swaps their rows in when it has caught up. A row here now only asks for a
-- rebuild at the consumer's next start, as 0004 does for consumers that ran before positions were kept.
COMMENT ON TABLE rebuilds IS 'consumers to rebuild (into fresh tables, then swapped in) at their next start';
