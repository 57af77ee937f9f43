//! Commands that only read the database (`status`, `map list`, `map
//! export`, `plan`) never create, migrate or write it: a mistyped --db, a
//! foreign SQLite file or a hand-edited schema version is refused in one
//! line, and a read-only database in a read-only directory is read.

use labsync_testkit::cli;
use labsync_testkit::world;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use cli::{Scratch, VALID};
use rusqlite::Connection;
use world::World;

const READERS: &[&[&str]] = &[
    &["status"],
    &["status", "--json"],
    &["map", "list"],
    &["map", "export"],
];

/// A labsync database with the VALID config's rows.
fn labsync_db(s: &Scratch, config: &Path) -> std::path::PathBuf {
    s.init_db(config);
    s.path("labsync.db")
}

/// The error lines a run printed; each refusal is exactly one.
fn errors(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains("error")).collect()
}

fn pragma(path: &Path, name: &str) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_missing_database_is_refused_and_not_created() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    for args in READERS.iter().chain([&["retry", "--all"][..]].iter()) {
        let run = s.labsync(&config, args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        let lines = errors(&run.stderr);
        assert_eq!(lines.len(), 1, "{args:?}: {}", run.stderr);
        assert!(
            lines[0].contains("no labsync database at"),
            "{args:?}: {}",
            lines[0]
        );
        assert!(
            !s.path("labsync.db").exists(),
            "{args:?} created the database"
        );
    }
}

#[test]
fn a_foreign_sqlite_file_is_refused_and_left_as_it_was() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    let path = s.path("labsync.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos (name) VALUES ('cat');")
        .unwrap();
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    // Writers refuse it too, before anything is written.
    for args in READERS
        .iter()
        .chain([&["retry", "--all"][..], &["sync"]].iter())
    {
        let run = s.labsync(&config, args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        let lines = errors(&run.stderr);
        assert_eq!(lines.len(), 1, "{args:?}: {}", run.stderr);
        assert!(
            lines[0].contains("is not a labsync database"),
            "{args:?}: {}",
            lines[0]
        );
        assert!(
            std::fs::read(&path).unwrap() == before,
            "{args:?} changed the file"
        );
    }
}

#[test]
fn an_unknown_schema_version_is_one_line_never_sql() {
    for version in [0, -1] {
        let s = Scratch::new();
        let config = s.write("plugins.toml", VALID);
        let path = labsync_db(&s, &config);
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", version)
            .unwrap();
        for args in READERS.iter().chain([&["retry", "--all"][..]].iter()) {
            let run = s.labsync(&config, args);
            assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
            assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
            assert!(
                run.stderr.contains(&format!(
                    "schema version {version} is not one labsync writes"
                )),
                "{args:?}: {}",
                run.stderr
            );
            assert!(!run.stderr.contains("CREATE"), "{}", run.stderr);
        }
        assert_eq!(pragma(&path, "user_version"), version);
    }
}

/// A database from before the application id (schema 4) is read as it is
/// and upgraded in place by the next command that writes.
#[test]
fn an_older_database_is_read_unchanged_and_upgraded_by_a_writer() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    let path = s.path("labsync.db");
    // The schema as labsync 4 left it, with a plugin row of its time.
    let conn = Connection::open(&path).unwrap();
    for sql in [
        include_str!("../../crates/store/migrations/0001_init.sql"),
        include_str!("../../crates/store/migrations/0002_comment_sweep.sql"),
        include_str!("../../crates/store/migrations/0003_leases.sql"),
        include_str!("../../crates/store/migrations/0004_install.sql"),
    ] {
        conn.execute_batch(sql).unwrap();
    }
    conn.execute(
        "INSERT INTO plugins (name, updated_at) VALUES ('webshop', '2026-01-01T00:00:00Z')",
        [],
    )
    .unwrap();
    conn.pragma_update(None, "user_version", 4).unwrap();
    drop(conn);
    let run = s.labsync(&config, &["status"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("plugin 'webshop'"), "{}", run.stdout);
    assert!(!run.stderr.contains("migration"), "{}", run.stderr);
    assert_eq!(pragma(&path, "user_version"), 4);
    let run = s.labsync(&config, &["retry", "--all"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        pragma(&path, "user_version"),
        labsync::store::SCHEMA_VERSION
    );
    assert_eq!(
        pragma(&path, "application_id"),
        labsync::store::identity::APPLICATION_ID
    );
}

/// Runs the binary as an unprivileged user when the tests run as root
/// (root writes through any permission bits).
fn as_reader(config: &Path, db: &Path, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labsync"));
    cmd.arg("--config")
        .arg(config)
        .arg("--db")
        .arg(db)
        .args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("LABSYNC_") {
            cmd.env_remove(k);
        }
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cmd.uid(65534).gid(65534);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_database_is_read_in_a_writable_and_a_read_only_directory() {
    let w = World::new("").await;
    let one = w
        .spira
        .add_incident(1, "Synced before the database was locked", 1);
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("plugins.toml");
    std::fs::copy(world::config_path(&w), &config).unwrap();
    chmod(&config, 0o644);
    let db = scratch.path().join("labsync.db");
    let out = w.labsync_with(&config, &db, &["sync"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    w.spira
        .add_incident(1, "Filed after the database was locked", 1);
    let image = std::fs::read(&db).unwrap();
    chmod(&db, 0o444);
    for dir_mode in [0o777, 0o555] {
        chmod(scratch.path(), dir_mode);
        for args in [
            &["status"][..],
            &["map", "list"],
            &["map", "export"],
            &["plan"],
        ] {
            let (config, db) = (config.clone(), db.clone());
            let (code, stdout, stderr) =
                tokio::task::spawn_blocking(move || as_reader(&config, &db, args))
                    .await
                    .unwrap();
            assert_eq!(code, 0, "{args:?} in a {dir_mode:o} directory: {stderr}");
            match args[0] {
                "status" => assert!(stdout.contains("result ok"), "{stdout}"),
                "plan" => {
                    assert!(
                        stdout.contains("Filed after the database was locked"),
                        "{stdout}"
                    );
                    assert!(!stdout.contains(&format!("IN:{one}")), "{stdout}");
                }
                _ => assert!(stdout.contains("opened"), "{args:?}: {stdout}"),
            }
        }
        assert!(std::fs::read(&db).unwrap() == image, "the file was written");
    }
    chmod(scratch.path(), 0o700);
}
