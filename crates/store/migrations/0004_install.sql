-- labsync schema, version 4: which install this database is, and which
-- servers and projects it syncs. A database copied to another machine, or
-- pointed at other servers by a configuration change, would otherwise
-- apply its links (incident and issue numbers of other servers) where they
-- mean something else.
--
-- `install` holds one row: a random id, written on the servers (GitLab
-- label `labsync::install`) so that a second install can be told apart.
CREATE TABLE install (
    id         TEXT NOT NULL,
    created_at TEXT NOT NULL
);
INSERT INTO install (id, created_at)
VALUES (lower(hex(randomblob(8))), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));

-- The servers and projects a plugin's project mapping was first synced
-- with. A cycle whose configuration names others stops with one error
-- until `labsync rebind PLUGIN` says the change is intended.
CREATE TABLE bindings (
    plugin         TEXT NOT NULL,
    spira_project  INTEGER NOT NULL,
    spira_url      TEXT NOT NULL,
    gitlab_url     TEXT NOT NULL,
    gitlab_project TEXT NOT NULL,
    bound_at       TEXT NOT NULL,
    PRIMARY KEY (plugin, spira_project)
);
