//! A database written by the release before migration 0007 (schema 6:
//! tests/data/v6-labsync.db, made by tests/data/make-v6-db.sh with labsync
//! 68a0d47 after real cycles against `labsync sim`) is upgraded in place:
//! every row is kept under the neutral names, its keys, indexes and foreign
//! keys with it; commands that only read show it as the release did without
//! changing the file; and syncing goes on from it without creating anything
//! twice.

use labsync_testkit::cli;
use labsync_testkit::world;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cli::Scratch;
use labsync::config::Config;
use labsync::model::{CreatedBy, Side};
use labsync::store::Store;
use rusqlite::Connection;
use rusqlite::types::Value;
use world::World;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/v6-labsync.db");
const EXPORT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/v6-map-export.toml");
const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/v6-plugins.toml");

/// The fixture's plugin, Spira project and the user mapping its
/// plugins.toml added to the simulators' block.
const PLUGIN: &str = "t";
const USERS: &str = "users = [{ spira = \"bob\", gitlab = \"bob\" }]\n";

/// A copy of the fixture at `dir/labsync.db`.
fn v6_copy(dir: &Path) -> PathBuf {
    let path = dir.join("labsync.db");
    std::fs::copy(FIXTURE, &path).unwrap();
    let conn = Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 6, "the fixture is a schema 6 database");
    path
}

/// A copy of the fixture with an error queued on each side and a pending
/// intent, added as the release's schema holds them (no item failed while
/// the fixture was made).
fn v6_copy_with_queue(dir: &Path) -> PathBuf {
    let path = v6_copy(dir);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "INSERT INTO errors (plugin, spira_project, side, item_id, cause, attempts, first_seen, last_seen, next_try, parked)
         VALUES ('t', 1, 'spira', 3, 'HTTP 500', 2, '2026-01-01T00:00:00Z', '2026-01-01T00:05:00Z', '2026-01-01T00:07:00Z', 0),
                ('t', 1, 'gitlab', 1, 'too long', 10, '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', '2026-01-01T07:00:00Z', 1);
         INSERT INTO intents (plugin, spira_project, kind, source_id, marker, payload, created_at)
         VALUES ('t', 1, 'issue', '9', '<!-- labsync:incident=1/9 -->', '{}', '2026-01-01T00:00:00Z');",
    )
    .unwrap();
    path
}

/// Column `table.column` of schema 6, as schema 7 names it.
fn renamed(table: &str, column: &str) -> String {
    let new = match (table, column) {
        (_, "spira_project") => "tm_project",
        ("links", "gitlab_project_id") => "tracker_project_id",
        ("project_mappings" | "bindings", "gitlab_project") => "tracker_project",
        ("bindings", "spira_url") => "tm_url",
        ("bindings", "gitlab_url") => "tracker_url",
        ("comment_links", "spira_comment_id") => "tm_comment_id",
        ("comment_links", "gitlab_note_id") => "tracker_note_id",
        ("status_mappings", "spira_status") => "tm_status",
        ("status_mappings", "gitlab_state") => "tracker_state",
        ("priority_mappings", "spira_priority") => "tm_priority",
        ("priority_mappings", "gitlab_label") => "tracker_label",
        ("user_mappings", "spira_user") => "tm_user",
        ("user_mappings", "gitlab_user") => "tracker_user",
        ("release_mappings", "spira_release") => "tm_release",
        ("release_mappings", "gitlab_milestone") => "tracker_milestone",
        _ => column,
    };
    new.to_string()
}

/// A value of schema 6 as schema 7 stores it: sides by their role.
fn rewritten(column: &str, value: Value) -> Value {
    match (column, &value) {
        ("side" | "origin" | "created_by", Value::Text(t)) if t == "spira" => {
            Value::Text("test-management".into())
        }
        ("side" | "origin" | "created_by", Value::Text(t)) if t == "gitlab" => {
            Value::Text("issue-tracker".into())
        }
        _ => value,
    }
}

type Row = BTreeMap<String, Value>;

/// The first column of every row `sql` selects.
fn texts(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn tables(conn: &Connection) -> Vec<String> {
    texts(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    )
}

/// Every row of `table`, sorted (a rebuilt table may order rowids anew).
fn rows(conn: &Connection, table: &str) -> Vec<Row> {
    let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
    let names: Vec<String> = stmt.column_names().map(|c| c.to_string()).collect();
    let mut out: Vec<Row> = stmt
        .query_map([], |r| {
            let mut row = Row::new();
            for (i, name) in names.iter().enumerate() {
                row.insert(name.clone(), r.get::<_, Value>(i)?);
            }
            Ok(row)
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    out.sort_by_key(|r| format!("{r:?}"));
    out
}

/// A table's keys as comparable text: each index (unique or not, partial or
/// not, where from) with its columns, and each foreign key.
fn keys(conn: &Connection, table: &str, rename: impl Fn(&str) -> String) -> Vec<String> {
    let mut out = Vec::new();
    let mut stmt = conn
        .prepare(&format!("PRAGMA index_list({table})"))
        .unwrap();
    let indexes: Vec<(String, bool, String, bool)> = stmt
        .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (name, unique, origin, partial) in indexes {
        let mut info = conn
            .prepare(&format!("PRAGMA index_xinfo({name})"))
            .unwrap();
        let columns: Vec<String> = info
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, bool>(5)?,
                ))
            })
            .unwrap()
            .filter_map(|c| {
                let (column, collation, key) = c.unwrap();
                Some(format!("{} {collation}", rename(&column?))).filter(|_| key)
            })
            .collect();
        // Indexes made by a constraint are named after their table.
        let name = if origin == "c" { name } else { String::new() };
        out.push(format!(
            "index {name} unique={unique} origin={origin} partial={partial} ({})",
            columns.join(", ")
        ));
    }
    let mut stmt = conn
        .prepare(&format!("PRAGMA foreign_key_list({table})"))
        .unwrap();
    let fks: Vec<String> = stmt
        .query_map([], |r| {
            Ok(format!(
                "foreign key {} -> {}({}) on delete {}",
                rename(&r.get::<_, String>(3)?),
                r.get::<_, String>(2)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(6)?
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    out.extend(fks);
    out.sort();
    out
}

#[test]
fn upgrading_keeps_every_row_key_and_index_under_the_neutral_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = v6_copy_with_queue(dir.path());
    let old = Connection::open(&path).unwrap();
    let before: Vec<(String, Vec<Row>, Vec<String>)> = tables(&old)
        .into_iter()
        .map(|t| {
            let rows = rows(&old, &t)
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .map(|(c, v)| (renamed(&t, &c), rewritten(&c, v)))
                        .collect()
                })
                .collect();
            let keys = keys(&old, &t, |c| renamed(&t, c));
            (t, rows, keys)
        })
        .collect();
    drop(old);
    let counts: BTreeMap<&str, usize> = before
        .iter()
        .map(|(t, r, _)| (t.as_str(), r.len()))
        .collect();
    // What the fixture holds, so that a remade one still covers each case.
    assert_eq!(counts["links"], 4, "{counts:?}");
    assert_eq!(counts["comment_links"], 3, "{counts:?}");
    assert_eq!(counts["watermarks"], 2, "{counts:?}");
    assert_eq!(counts["errors"], 2, "{counts:?}");
    assert!(
        counts["user_mappings"] >= 3 && counts["release_mappings"] >= 1,
        "{counts:?}"
    );

    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        labsync::store::SCHEMA_VERSION
    );
    drop(store);

    let new = Connection::open(&path).unwrap();
    assert_eq!(
        tables(&new),
        before.iter().map(|(t, _, _)| t.clone()).collect::<Vec<_>>(),
        "the same tables, no leftover"
    );
    for (table, old_rows, old_keys) in &before {
        let mut new_rows = rows(&new, table);
        if table == "project_mappings" {
            for row in &mut new_rows {
                let tm = row.remove("tm_connector");
                let tracker = row.remove("tracker_connector");
                assert_eq!(tm, Some(Value::Text("spira".into())), "{row:?}");
                assert_eq!(tracker, Some(Value::Text("gitlab".into())), "{row:?}");
            }
        }
        let mut expected = old_rows.clone();
        expected.sort_by_key(|r| format!("{r:?}"));
        assert_eq!(&new_rows, &expected, "rows of {table}");
        assert_eq!(
            &keys(&new, table, str::to_string),
            old_keys,
            "keys of {table}"
        );
    }
    // No vendor left in the schema: columns, CHECKs, indexes (but the
    // audit's directions, which the configuration names the same way).
    for sql in texts(&new, "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL") {
        let lower = sql.to_lowercase().replace("'to-gitlab'", "");
        assert!(
            !lower.contains("spira") && !lower.contains("gitlab"),
            "{sql}"
        );
    }
    let dangling: i64 = new
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(dangling, 0);
}

#[test]
fn the_store_reads_the_upgraded_rows_as_the_release_wrote_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = v6_copy_with_queue(dir.path());
    let store = Store::open(&path).unwrap();
    let links = store.links(PLUGIN, 1).unwrap();
    let by: Vec<(i64, i64, CreatedBy)> = links
        .iter()
        .map(|l| (l.tm_item, l.tracker_iid, l.created_by))
        .collect();
    assert_eq!(by.len(), 4, "{by:?}");
    let from_spira = by
        .iter()
        .filter(|(_, _, c)| *c == CreatedBy::Side(Side::TestManagement))
        .count();
    let from_gitlab = by
        .iter()
        .filter(|(_, _, c)| *c == CreatedBy::Side(Side::IssueTracker))
        .count();
    assert_eq!((from_spira, from_gitlab), (3, 1), "{by:?}");
    let comments: Vec<Side> = links
        .iter()
        .flat_map(|l| store.comment_links(l.id).unwrap())
        .map(|c| c.origin)
        .collect();
    assert_eq!(comments.len(), 3);
    assert!(comments.contains(&Side::TestManagement) && comments.contains(&Side::IssueTracker));
    for side in Side::BOTH {
        assert!(
            store.watermark(PLUGIN, 1, side).unwrap().is_some(),
            "{side:?}"
        );
    }
    let queued: Vec<(Side, i64, i64, bool)> = store
        .queued_errors(PLUGIN, 1)
        .unwrap()
        .into_iter()
        .map(|q| (q.side, q.item_id, q.attempts, q.parked))
        .collect();
    assert_eq!(
        queued,
        vec![
            (Side::TestManagement, 3, 2, false),
            (Side::IssueTracker, 1, 10, true)
        ]
    );
    assert_eq!(store.pending_intents(PLUGIN, 1).unwrap().len(), 1);
}

/// `map export` prints what the release printed, `status --errors` names
/// the sides as before, and neither changes the file.
#[test]
fn read_only_commands_read_a_v6_database_without_changing_it() {
    let s = Scratch::new();
    let path = v6_copy_with_queue(s.dir.path());
    let config = s.write("plugins.toml", &std::fs::read_to_string(CONFIG).unwrap());
    let original = std::fs::read(&path).unwrap();

    let export = s.labsync(&config, &["map", "export"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let released = std::fs::read_to_string(EXPORT).unwrap();
    // The first line says when it was exported.
    let body = |t: &str| t.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&export.stdout), body(&released));

    let status = s.labsync(&config, &["status", "--errors", "--json"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let sides: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["side"].as_str().unwrap())
        .collect();
    assert_eq!(sides, ["spira", "gitlab"], "{v}");

    assert_eq!(
        std::fs::read(&path).unwrap(),
        original,
        "the file is unchanged"
    );
}

/// Items matching the fixture's links and comment links, made in id order
/// on fresh simulators (filler projects take the ids GitLab gave to what is
/// not recreated): the engine must find each pair and comment through its
/// link, as on the servers the fixture was made with.
fn recreate(w: &World, store: &Store) {
    let links = store.links(PLUGIN, 1).unwrap();
    assert_eq!(w.gitlab.project_id(), links[0].tracker_project_id as u64);
    let mut incidents: Vec<_> = links.iter().collect();
    incidents.sort_by_key(|l| l.tm_item);
    for l in &incidents {
        let id = w.spira.add_incident(1, &l.base.title, 1);
        assert_eq!(
            i64::from(id),
            l.tm_item,
            "incident ids follow the fixture's"
        );
        w.spira.edit_incident(id, |i| {
            i.description = format!("<p>{}</p>", l.base.description);
            i.incident_status_id = l.base.status.unwrap_or(1) as u32;
            i.priority_id = l.base.priority.map(|p| p as u32);
            i.owner_id = l.base.assignee.map(|a| a as u32);
            i.custom.insert(
                1,
                serde_json::json!(format!("{}#{}", w.gitlab.project_path(), l.tracker_iid)),
            );
        });
    }
    // GitLab's issues and notes share one sequence of ids.
    enum Made<'a> {
        Issue(&'a labsync::store::links::Link),
        Note(u64, i64),
    }
    let mut made: Vec<(i64, Made)> = Vec::new();
    let mut comments = Vec::new();
    for l in &links {
        made.push((l.tracker_item_id, Made::Issue(l)));
        for c in store.comment_links(l.id).unwrap() {
            made.push((
                c.tracker_comment,
                Made::Note(l.tracker_iid as u64, c.tracker_comment),
            ));
            comments.push((c.tm_comment, l.tm_item as u32));
        }
    }
    made.sort_by_key(|(id, _)| *id);
    let mut last_id = 0;
    for (id, what) in made {
        // The first takes the id the fixture's first one got (the same
        // seed); later ones skip the ids of what is not recreated.
        if last_id > 0 {
            while last_id + 1 < id as u64 {
                last_id = w.gitlab.add_project(&format!("filler/p{last_id}"));
            }
        }
        let got = match what {
            Made::Issue(l) => {
                let iid = w
                    .gitlab
                    .create_issue_as("alice", &l.base.title, &l.base.description);
                assert_eq!(iid as i64, l.tracker_iid);
                w.gitlab.issue(iid).unwrap()["id"].as_u64().unwrap()
            }
            Made::Note(iid, note) => w
                .gitlab
                .add_note_as("alice", iid, &format!("note {note}"))
                .unwrap(),
        };
        assert_eq!(
            got as i64, id,
            "GitLab ids follow the fixture's (remake it if the simulator's seed changed)"
        );
        last_id = got;
    }
    comments.sort();
    for (comment, incident) in comments {
        let got = w
            .spira
            .add_comment(incident, 1, &format!("comment {comment}"));
        assert_eq!(
            i64::from(got),
            comment,
            "Spira comment ids follow the fixture's"
        );
    }
}

#[tokio::test]
async fn syncing_goes_on_from_an_upgraded_database_without_duplicates() {
    let mut w = World::new("").await;
    let old = w.dir.path().join("v6");
    std::fs::create_dir(&old).unwrap();
    let path = v6_copy(&old);
    let text = format!("{}{USERS}", w.text);
    w.config = Config::from_str(Path::new("plugins.toml"), &text).unwrap();
    w.store = Store::open(&path).unwrap();
    w.store.apply_config(&w.config).unwrap();
    recreate(&w, &w.store);
    // The fixture was bound to other simulators' addresses.
    w.rebind().await;
    let comments = |w: &World| -> usize {
        w.incident_ids()
            .iter()
            .map(|id| w.spira.comments(*id).len())
            .sum()
    };
    let notes = |w: &World| -> usize {
        w.issue_iids()
            .iter()
            .map(|iid| {
                w.gitlab
                    .notes(*iid)
                    .iter()
                    .filter(|n| n["system"] == false)
                    .count()
            })
            .sum()
    };
    let (comments_before, notes_before) = (comments(&w), notes(&w));
    assert_eq!((comments_before, notes_before), (3, 3));

    let r = w.cycle().await;
    let t = r.totals();
    assert_eq!((t.created_issues, t.created_incidents), (0, 0), "{r:?}");
    assert_eq!(w.incident_ids().len(), 4);
    assert_eq!(w.issue_iids().len(), 4);

    // An edit on each side crosses to the other.
    let (incident, iid) = {
        let links = w.store.links(PLUGIN, 1).unwrap();
        let l = links.iter().find(|l| l.tm_item == 3).unwrap();
        let m = links.iter().find(|l| l.tm_item == 4).unwrap();
        (l.tm_item as u32, m.tracker_iid as u64)
    };
    w.advance(chrono::Duration::minutes(5));
    w.spira
        .edit_incident(incident, |i| i.name = "Search ignores every filter".into());
    w.gitlab
        .edit_issue_as("alice", iid, Some("Export drops the last two rows"), None);
    w.advance(chrono::Duration::minutes(5));
    let r = w.cycle().await;
    let t = r.totals();
    assert_eq!((t.created_issues, t.created_incidents), (0, 0), "{r:?}");
    w.issue_titled("Search ignores every filter");
    w.incident_named("Export drops the last two rows");
    assert_eq!(w.incident_ids().len(), 4);
    assert_eq!(w.issue_iids().len(), 4);
    // No comment was copied again.
    assert_eq!((comments(&w), notes(&w)), (comments_before, notes_before));
}
