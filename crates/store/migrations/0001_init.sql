-- labsync schema, version 1.
-- Keys in the mapping tables are text: a Spira id is kept as its digits, a
-- name as written; GitLab keys are usernames, labels, milestone titles or ids.

CREATE TABLE plugins (
    name        TEXT PRIMARY KEY,
    caption     TEXT NOT NULL DEFAULT '',
    enabled     INTEGER NOT NULL DEFAULT 1,
    -- 0 once the plugin left plugins.toml: its links stay, so that bringing
    -- it back never creates duplicates.
    in_config   INTEGER NOT NULL DEFAULT 1,
    updated_at  TEXT NOT NULL
);

CREATE TABLE project_mappings (
    id              INTEGER PRIMARY KEY,
    plugin          TEXT NOT NULL REFERENCES plugins(name),
    spira_project   INTEGER NOT NULL,
    gitlab_project  TEXT NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1,
    source          TEXT NOT NULL CHECK (source IN ('config', 'cli', 'auto')),
    UNIQUE (plugin, spira_project),
    UNIQUE (plugin, gitlab_project)
);

CREATE TABLE status_mappings (
    id             INTEGER PRIMARY KEY,
    plugin         TEXT NOT NULL REFERENCES plugins(name),
    spira_project  INTEGER NOT NULL,
    spira_status   TEXT NOT NULL,
    gitlab_state   TEXT NOT NULL CHECK (gitlab_state IN ('opened', 'closed')),
    is_primary     INTEGER NOT NULL DEFAULT 0,
    source         TEXT NOT NULL CHECK (source IN ('config', 'cli', 'auto')),
    UNIQUE (plugin, spira_project, spira_status COLLATE NOCASE)
);
-- Each GitLab state has at most one primary Spira status.
CREATE UNIQUE INDEX status_one_primary
    ON status_mappings (plugin, spira_project, gitlab_state) WHERE is_primary = 1;

CREATE TABLE priority_mappings (
    id              INTEGER PRIMARY KEY,
    plugin          TEXT NOT NULL REFERENCES plugins(name),
    spira_project   INTEGER NOT NULL,
    spira_priority  TEXT NOT NULL,
    gitlab_label    TEXT NOT NULL,
    is_primary      INTEGER NOT NULL DEFAULT 0,
    source          TEXT NOT NULL CHECK (source IN ('config', 'cli', 'auto')),
    UNIQUE (plugin, spira_project, spira_priority COLLATE NOCASE)
);
CREATE UNIQUE INDEX priority_one_primary
    ON priority_mappings (plugin, spira_project, gitlab_label COLLATE NOCASE) WHERE is_primary = 1;

CREATE TABLE user_mappings (
    id             INTEGER PRIMARY KEY,
    plugin         TEXT NOT NULL REFERENCES plugins(name),
    spira_project  INTEGER NOT NULL,
    spira_user     TEXT NOT NULL,
    gitlab_user    TEXT NOT NULL,
    source         TEXT NOT NULL CHECK (source IN ('config', 'cli', 'auto')),
    UNIQUE (plugin, spira_project, spira_user COLLATE NOCASE),
    UNIQUE (plugin, spira_project, gitlab_user COLLATE NOCASE)
);

CREATE TABLE release_mappings (
    id                INTEGER PRIMARY KEY,
    plugin            TEXT NOT NULL REFERENCES plugins(name),
    spira_project     INTEGER NOT NULL,
    spira_release     TEXT NOT NULL,
    gitlab_milestone  TEXT NOT NULL,
    source            TEXT NOT NULL CHECK (source IN ('config', 'cli', 'auto')),
    UNIQUE (plugin, spira_project, spira_release COLLATE NOCASE),
    UNIQUE (plugin, spira_project, gitlab_milestone COLLATE NOCASE)
);

-- One incident ↔ one issue, with the neutral record as it stood after the
-- last successful sync of the pair (the base of the three-way merge).
CREATE TABLE links (
    id                 INTEGER PRIMARY KEY,
    plugin             TEXT NOT NULL REFERENCES plugins(name),
    spira_project      INTEGER NOT NULL,
    incident_id        INTEGER NOT NULL,
    gitlab_project_id  INTEGER NOT NULL,
    issue_id           INTEGER NOT NULL,
    issue_iid          INTEGER NOT NULL,
    issue_url          TEXT NOT NULL DEFAULT '',
    created_by         TEXT NOT NULL CHECK (created_by IN ('spira', 'gitlab', 'matched')),
    base               TEXT NOT NULL,
    base_hash          TEXT NOT NULL,
    -- Highest note id / comment id already handled, so only new ones are read.
    last_note_id       INTEGER NOT NULL DEFAULT 0,
    last_comment_id    INTEGER NOT NULL DEFAULT 0,
    -- Set when either side was deleted or moved; nothing is deleted in return.
    orphaned           TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (plugin, spira_project, incident_id),
    UNIQUE (plugin, gitlab_project_id, issue_id)
);

CREATE TABLE comment_links (
    id                INTEGER PRIMARY KEY,
    link_id           INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE,
    spira_comment_id  INTEGER NOT NULL,
    gitlab_note_id    INTEGER NOT NULL,
    origin            TEXT NOT NULL CHECK (origin IN ('spira', 'gitlab')),
    created_at        TEXT NOT NULL,
    UNIQUE (link_id, spira_comment_id),
    UNIQUE (link_id, gitlab_note_id)
);

CREATE TABLE watermarks (
    plugin         TEXT NOT NULL REFERENCES plugins(name),
    spira_project  INTEGER NOT NULL,
    side           TEXT NOT NULL CHECK (side IN ('spira', 'gitlab')),
    at             TEXT NOT NULL,
    PRIMARY KEY (plugin, spira_project, side)
);

-- A create about to happen. Committed before the remote call; resolved by
-- looking for `marker` on the other side before anything is created again.
CREATE TABLE intents (
    id             INTEGER PRIMARY KEY,
    plugin         TEXT NOT NULL REFERENCES plugins(name),
    spira_project  INTEGER NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('issue', 'incident', 'note', 'comment', 'milestone', 'release', 'label')),
    source_id      TEXT NOT NULL,
    marker         TEXT NOT NULL UNIQUE,
    payload        TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL,
    UNIQUE (plugin, spira_project, kind, source_id)
);

-- Items that failed, retried with backoff on later cycles.
CREATE TABLE errors (
    id             INTEGER PRIMARY KEY,
    plugin         TEXT NOT NULL REFERENCES plugins(name),
    spira_project  INTEGER NOT NULL,
    side           TEXT NOT NULL CHECK (side IN ('spira', 'gitlab')),
    item_id        INTEGER NOT NULL,
    cause          TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 1,
    first_seen     TEXT NOT NULL,
    last_seen      TEXT NOT NULL,
    next_try       TEXT NOT NULL,
    -- Set once an item has failed too often; it waits for `labsync retry`.
    parked         INTEGER NOT NULL DEFAULT 0,
    UNIQUE (plugin, spira_project, side, item_id)
);

CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    plugin       TEXT NOT NULL REFERENCES plugins(name),
    trigger      TEXT NOT NULL CHECK (trigger IN ('schedule', 'sync-now', 'webhook', 'demo')),
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    result       TEXT CHECK (result IN ('ok', 'partial', 'failed', 'interrupted')),
    summary      TEXT NOT NULL DEFAULT '{}'
);

-- Audit: every field change and conflict decision (for `labsync explain`).
CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER REFERENCES runs(id),
    plugin         TEXT NOT NULL,
    spira_project  INTEGER NOT NULL,
    link_id        INTEGER REFERENCES links(id) ON DELETE SET NULL,
    incident_id    INTEGER,
    issue_iid      INTEGER,
    action         TEXT NOT NULL,
    field          TEXT,
    direction      TEXT CHECK (direction IN ('to-gitlab', 'to-test-management', 'none')),
    before_value   TEXT,
    after_value    TEXT,
    conflict       INTEGER NOT NULL DEFAULT 0,
    decision       TEXT,
    at             TEXT NOT NULL
);
CREATE INDEX events_by_incident ON events (plugin, spira_project, incident_id);
CREATE INDEX events_by_issue ON events (plugin, spira_project, issue_iid);
