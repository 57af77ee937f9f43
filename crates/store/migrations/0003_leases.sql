-- labsync schema, version 3: who is running a cycle of which plugin, so that
-- the daemon and a `labsync --sync-now` never sync the same plugin at once.
-- A lease expires unless its holder renews it; a crashed holder's lease is
-- taken over once it has expired. The row "(daemon)" marks a running
-- `labsync run`.
CREATE TABLE leases (
    plugin      TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    pid         INTEGER,
    acquired_at TEXT,
    expires_at  TEXT
);
