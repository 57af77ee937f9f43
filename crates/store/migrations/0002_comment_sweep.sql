-- labsync schema, version 2: when each link's Spira comments were last read
-- (by Spira's clock), so that comments which do not move an incident's
-- LastUpdateDate are still found by a periodic sweep.
ALTER TABLE links ADD COLUMN comments_checked_at TEXT;
