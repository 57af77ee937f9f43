-- labsync schema, version 7: the schema names the two sides by their role
-- (test management, issue tracker), not by the products on them today, and
-- each project mapping records which connector serves each side.
--
-- - every `spira_project` column is `tm_project`;
-- - project_mappings: `tracker_project`, and `tm_connector` /
--   `tracker_connector` ('spira' / 'gitlab' for every existing row);
-- - the mapping tables' keys: tm_status / tracker_state, tm_priority /
--   tracker_label, tm_user / tracker_user, tm_release / tracker_milestone;
-- - bindings: tm_url, tracker_url, tracker_project;
-- - links.tracker_project_id, comment_links.tm_comment_id / tracker_note_id;
-- - `side`, `origin` and `created_by` hold 'test-management' and
--   'issue-tracker' (and 'matched'), rewritten from 'spira' and 'gitlab'.
--
-- A CHECK constraint cannot be altered in SQLite: the tables holding one
-- (project_mappings for its new NOT NULL columns too) are rebuilt with
-- their keys, unique constraints and foreign keys, and the rest renamed in
-- place (indexes, partial ones included, follow a renamed column). The
-- store runs this with foreign keys off, so that dropping the old `links`
-- does not set off the ON DELETE actions of comment_links and events, and
-- runs `PRAGMA foreign_key_check` before committing. A value no side names
-- fails the new CHECK and with it the whole migration: nothing is changed.

ALTER TABLE status_mappings RENAME COLUMN spira_project TO tm_project;
ALTER TABLE status_mappings RENAME COLUMN spira_status TO tm_status;
ALTER TABLE status_mappings RENAME COLUMN gitlab_state TO tracker_state;

ALTER TABLE priority_mappings RENAME COLUMN spira_project TO tm_project;
ALTER TABLE priority_mappings RENAME COLUMN spira_priority TO tm_priority;
ALTER TABLE priority_mappings RENAME COLUMN gitlab_label TO tracker_label;

ALTER TABLE user_mappings RENAME COLUMN spira_project TO tm_project;
ALTER TABLE user_mappings RENAME COLUMN spira_user TO tm_user;
ALTER TABLE user_mappings RENAME COLUMN gitlab_user TO tracker_user;

ALTER TABLE release_mappings RENAME COLUMN spira_project TO tm_project;
ALTER TABLE release_mappings RENAME COLUMN spira_release TO tm_release;
ALTER TABLE release_mappings RENAME COLUMN gitlab_milestone TO tracker_milestone;

ALTER TABLE intents RENAME COLUMN spira_project TO tm_project;
ALTER TABLE events RENAME COLUMN spira_project TO tm_project;

ALTER TABLE bindings RENAME COLUMN spira_project TO tm_project;
ALTER TABLE bindings RENAME COLUMN spira_url TO tm_url;
ALTER TABLE bindings RENAME COLUMN gitlab_url TO tracker_url;
ALTER TABLE bindings RENAME COLUMN gitlab_project TO tracker_project;

CREATE TABLE project_mappings_v7 (
    id                 INTEGER PRIMARY KEY,
    plugin             TEXT NOT NULL REFERENCES plugins(name),
    tm_project         INTEGER NOT NULL,
    tracker_project    TEXT NOT NULL,
    -- The connector serving each side, by its name in plugins.toml.
    tm_connector       TEXT NOT NULL,
    tracker_connector  TEXT NOT NULL,
    active             INTEGER NOT NULL DEFAULT 1,
    source             TEXT NOT NULL CHECK (source IN ('config', 'cli', 'auto')),
    UNIQUE (plugin, tm_project),
    UNIQUE (plugin, tracker_project)
);
INSERT INTO project_mappings_v7
    (id, plugin, tm_project, tracker_project, tm_connector, tracker_connector, active, source)
SELECT id, plugin, spira_project, gitlab_project, 'spira', 'gitlab', active, source
FROM project_mappings;
DROP TABLE project_mappings;
ALTER TABLE project_mappings_v7 RENAME TO project_mappings;

CREATE TABLE links_v7 (
    id                  INTEGER PRIMARY KEY,
    plugin              TEXT NOT NULL REFERENCES plugins(name),
    tm_project          INTEGER NOT NULL,
    incident_id         INTEGER NOT NULL,
    tracker_project_id  INTEGER NOT NULL,
    issue_id            INTEGER NOT NULL,
    issue_iid           INTEGER NOT NULL,
    issue_url           TEXT NOT NULL DEFAULT '',
    created_by          TEXT NOT NULL CHECK (created_by IN ('test-management', 'issue-tracker', 'matched')),
    base                TEXT NOT NULL,
    base_hash           TEXT NOT NULL,
    -- Highest note id / comment id already handled, so only new ones are read.
    last_note_id        INTEGER NOT NULL DEFAULT 0,
    last_comment_id     INTEGER NOT NULL DEFAULT 0,
    -- Set when either side was deleted or moved; nothing is deleted in return.
    orphaned            TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    -- When the incident's comments were last read, by its server's clock.
    comments_checked_at TEXT,
    UNIQUE (plugin, tm_project, incident_id),
    UNIQUE (plugin, tracker_project_id, issue_id)
);
INSERT INTO links_v7
    (id, plugin, tm_project, incident_id, tracker_project_id, issue_id, issue_iid, issue_url,
     created_by, base, base_hash, last_note_id, last_comment_id, orphaned, created_at,
     updated_at, comments_checked_at)
SELECT id, plugin, spira_project, incident_id, gitlab_project_id, issue_id, issue_iid, issue_url,
       CASE created_by WHEN 'spira' THEN 'test-management' WHEN 'gitlab' THEN 'issue-tracker'
                       ELSE created_by END,
       base, base_hash, last_note_id, last_comment_id, orphaned, created_at,
       updated_at, comments_checked_at
FROM links;

CREATE TABLE comment_links_v7 (
    id               INTEGER PRIMARY KEY,
    link_id          INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE,
    tm_comment_id    INTEGER NOT NULL,
    tracker_note_id  INTEGER NOT NULL,
    origin           TEXT NOT NULL CHECK (origin IN ('test-management', 'issue-tracker')),
    created_at       TEXT NOT NULL,
    UNIQUE (link_id, tm_comment_id),
    UNIQUE (link_id, tracker_note_id)
);
INSERT INTO comment_links_v7 (id, link_id, tm_comment_id, tracker_note_id, origin, created_at)
SELECT id, link_id, spira_comment_id, gitlab_note_id,
       CASE origin WHEN 'spira' THEN 'test-management' WHEN 'gitlab' THEN 'issue-tracker'
                   ELSE origin END,
       created_at
FROM comment_links;

-- The children go first; `links` keeps its name for their references.
DROP TABLE comment_links;
DROP TABLE links;
ALTER TABLE links_v7 RENAME TO links;
ALTER TABLE comment_links_v7 RENAME TO comment_links;

CREATE TABLE watermarks_v7 (
    plugin      TEXT NOT NULL REFERENCES plugins(name),
    tm_project  INTEGER NOT NULL,
    side        TEXT NOT NULL CHECK (side IN ('test-management', 'issue-tracker')),
    at          TEXT NOT NULL,
    PRIMARY KEY (plugin, tm_project, side)
);
INSERT INTO watermarks_v7 (plugin, tm_project, side, at)
SELECT plugin, spira_project,
       CASE side WHEN 'spira' THEN 'test-management' WHEN 'gitlab' THEN 'issue-tracker'
                 ELSE side END,
       at
FROM watermarks;
DROP TABLE watermarks;
ALTER TABLE watermarks_v7 RENAME TO watermarks;

-- Items that failed, retried with backoff on later cycles.
CREATE TABLE errors_v7 (
    id          INTEGER PRIMARY KEY,
    plugin      TEXT NOT NULL REFERENCES plugins(name),
    tm_project  INTEGER NOT NULL,
    side        TEXT NOT NULL CHECK (side IN ('test-management', 'issue-tracker')),
    item_id     INTEGER NOT NULL,
    cause       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 1,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    next_try    TEXT NOT NULL,
    -- Set once an item has failed too often; it waits for `labsync retry`.
    parked      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (plugin, tm_project, side, item_id)
);
INSERT INTO errors_v7
    (id, plugin, tm_project, side, item_id, cause, attempts, first_seen, last_seen, next_try, parked)
SELECT id, plugin, spira_project,
       CASE side WHEN 'spira' THEN 'test-management' WHEN 'gitlab' THEN 'issue-tracker'
                 ELSE side END,
       item_id, cause, attempts, first_seen, last_seen, next_try, parked
FROM errors;
DROP TABLE errors;
ALTER TABLE errors_v7 RENAME TO errors;
