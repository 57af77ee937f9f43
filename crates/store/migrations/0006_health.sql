-- labsync schema, version 6: what `labsync status` needs to tell whether
-- labsync is healthy.
--
-- When each lease was last renewed: its holder's heartbeat. A running
-- `labsync run` renews its "(daemon)" lease every 30 seconds.
ALTER TABLE leases ADD COLUMN renewed_at TEXT;

-- When the running daemon will start each plugin's next cycle. Written by
-- the daemon whenever it plans, cleared when it stops.
CREATE TABLE schedule (
    plugin   TEXT PRIMARY KEY,
    next_run TEXT NOT NULL
);
