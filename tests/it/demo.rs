//! `labsync demo` end to end: the real binary, its story, and the files it
//! leaves for `labsync status`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn labsync(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_labsync"))
        .args(args)
        .env_remove("LABSYNC_CONFIG")
        .env_remove("LABSYNC_DB")
        .env_remove("RUST_LOG")
        .output()
        .expect("the labsync binary runs")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// The path printed after `label` on a line of its own.
fn printed_path(stdout: &str, label: &str) -> PathBuf {
    let line = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no '{label}' line in:\n{stdout}"));
    PathBuf::from(line.trim_start_matches(label).trim())
}

fn run_demo(dir: &Path) -> String {
    let out = labsync(&["demo", "--dir", dir.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    stdout
}

#[test]
fn the_demo_tells_what_moved_and_leaves_a_database_to_look_at() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_demo(dir.path());

    assert!(out.contains("Starting a simulated Spira and a simulated GitLab on 127.0.0.1"));
    assert!(out.contains("http://127.0.0.1:"), "{out}");
    // First cycle: named creations both ways, comments copied.
    assert!(
        out.contains("IN:2 'Prices show three decimals in the cart' → #"),
        "{out}"
    );
    assert!(out.contains("#3 'Add invoice PDF download' → IN:"), "{out}");
    assert!(out.contains("comments from IN:1 → #"), "{out}");
    assert!(
        out.contains("Users mapped automatically: alice ↔ alice"),
        "{out}"
    );
    // Second cycle: each person's change shows on the other side.
    assert!(out.contains("priority 2 - High → 1 - Critical"), "{out}");
    assert!(
        out.contains("labels priority::high → priority::critical"),
        "{out}"
    );
    assert!(
        out.contains("alice's comment on IN:3 is a note on #"),
        "{out}"
    );
    assert!(out.contains(" closed: Spira IN:"), "{out}");
    assert!(out.contains("status New → Closed"), "{out}");
    assert!(
        out.contains("bob's note on #") && out.contains(" is a comment on IN:"),
        "{out}"
    );
    // Third cycle: quiet.
    assert!(out.contains("ok: nothing to do: 0 writes"), "{out}");
    assert!(!out.contains("NOT DONE"), "{out}");
    assert!(
        out.contains("every change arrived on the other side"),
        "{out}"
    );

    // The files it keeps, and the commands it suggests, work.
    let db = printed_path(&out, "database:");
    let config = printed_path(&out, "config:");
    assert_eq!(db, dir.path().canonicalize().unwrap().join("labsync.db"));
    assert!(db.exists() && config.exists(), "{out}");
    assert!(out.contains(&format!(
        "labsync status --db {} --config {}",
        db.display(),
        config.display()
    )));
    assert!(out.contains("labsync sim"), "{out}");
    let (db, config) = (db.to_str().unwrap(), config.to_str().unwrap());
    let status = labsync(&["status", "--db", db, "--config", config]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    assert!(
        text(&status.stdout).contains("demo"),
        "{}",
        text(&status.stdout)
    );
    let map = labsync(&["map", "list", "--db", db, "--config", config]);
    assert_eq!(map.status.code(), Some(0), "{}", text(&map.stderr));
    assert!(text(&map.stdout).contains("priority::critical"));
}

#[test]
fn the_demo_refuses_a_directory_holding_an_earlier_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("labsync.db"), b"").unwrap();
    let out = labsync(&["demo", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("give an empty directory"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn a_change_that_did_not_travel_is_reported_as_not_done() {
    use labsync::demo::{people, say::Say, stage::Stage};
    let dir = tempfile::tempdir().unwrap();
    let mut stage = Stage::start(dir.path()).await.unwrap();
    let first = stage.cycle().await.unwrap();
    assert_eq!(first.result(), "ok", "{first:?}");
    let say = Say::default();
    let acts = people::act(&stage, &say).unwrap();
    // No cycle ran since: nothing can have arrived.
    assert!(!people::check(&stage, &acts, &say));
    stage.cycle().await.unwrap();
    assert!(people::check(&stage, &acts, &say));
    stage.shutdown().await;
}
