//! The cycle lease and the stop flag: `labsync sync` never syncs a plugin
//! whose cycle runs elsewhere, and a cycle asked to stop keeps only what it did.

use labsync_testkit::world;

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use labsync::connectors::run_plugin;
use labsync::connectors::{CycleMode, CycleOptions};
use labsync::model::Side;
use labsync::store::Store;
use labsync::store::lease::DAEMON;
use labsync_testkit::daemon::{count, exited, issue_titled, labsync};
use world::World;

/// Another labsync, on another host (so trusted until its lease expires).
const HOLDER: &str = "4242@elsewhere:cafe";

/// The world's config and database written out, with plugin 't''s lease
/// held by [`HOLDER`] (for half an hour) through a store of its own; request
/// counts start from here.
fn held_elsewhere(w: &World) -> (std::path::PathBuf, std::path::PathBuf, Store) {
    let dir = w.dir.path();
    let config = dir.join("plugins.toml");
    std::fs::write(&config, &w.text).unwrap();
    let db = dir.join("labsync.db");
    let mut other = Store::open(&db).unwrap();
    assert!(
        other
            .try_acquire("t", HOLDER, chrono::Duration::minutes(30))
            .unwrap()
    );
    w.gitlab.reset_counts();
    w.spira.reset_counts();
    (config, db, other)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_waits_for_a_cycle_held_elsewhere_and_never_double_syncs() {
    let w = World::new("").await;
    w.spira.add_incident(1, "Waiting for its turn", 1);
    let (config, db, mut other) = held_elsewhere(&w);

    let refused = labsync(&config, &db, &["sync"])
        .env("LABSYNC_LEASE_WAIT", "1s")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(&format!(
            "a cycle of plugin 't' is already running (held by {HOLDER})"
        )),
        "{stderr}"
    );
    assert_eq!(w.gitlab.request_count(""), 0, "GitLab was contacted");
    assert_eq!(w.spira.request_count(""), 0, "Spira was contacted");
    assert_eq!(issue_titled(&w, "Waiting for its turn"), 0);

    // A sync that waits long enough goes ahead once the lease is released.
    let mut waiting = labsync(&config, &db, &["--sync-now"])
        .env("LABSYNC_LEASE_WAIT", "60s")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = waiting.stderr.take().unwrap();
    let first_line = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut reader = std::io::BufReader::new(&mut stderr);
        // The first line about the lease (a warning about the test's
        // world-readable config may come before it).
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 && !line.contains("waiting") {
            line.clear();
        }
        // Keep draining so the child never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        line
    })
    .await
    .unwrap();
    assert!(first_line.contains("waiting up to 1m"), "{first_line}");
    assert_eq!(issue_titled(&w, "Waiting for its turn"), 0);
    other.release("t", HOLDER).unwrap();
    let status = exited(waiting, Duration::from_secs(30), "the lease's release").await;
    assert_eq!(status.code(), Some(0));
    assert_eq!(issue_titled(&w, "Waiting for its turn"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM leases"), 0);
    assert!(other.lease(DAEMON).unwrap().is_none());
}

/// Ctrl-C while `--sync-now` waits for a cycle running elsewhere: it stops
/// waiting (rather than after LABSYNC_LEASE_WAIT), syncs nothing, leaves the
/// other's lease alone and says it was interrupted (exit 130).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_ends_the_wait_for_a_cycle_held_elsewhere() {
    let w = World::new("").await;
    w.spira.add_incident(1, "Never synced here", 1);
    let (config, db, other) = held_elsewhere(&w);
    let mut waiting = labsync(&config, &db, &["--sync-now"])
        .env("LABSYNC_LEASE_WAIT", "20m")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = waiting.stderr.take().unwrap();
    tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut reader = std::io::BufReader::new(&mut stderr);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 && !line.contains("waiting up to") {
            line.clear();
        }
        assert!(line.contains("waiting up to 20m"), "{line}");
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    })
    .await
    .unwrap();
    labsync_testkit::daemon::signal(&waiting, "INT");
    // Far less than the 20 minutes it would otherwise wait.
    let status = exited(waiting, Duration::from_secs(120), "Ctrl-C").await;
    assert_eq!(status.code(), Some(130));
    assert_eq!(w.gitlab.request_count(""), 0, "GitLab was contacted");
    assert_eq!(w.spira.request_count(""), 0, "Spira was contacted");
    assert_eq!(count(&db, "SELECT count(*) FROM runs"), 0);
    let lease = other
        .lease("t")
        .unwrap()
        .expect("the other's lease is kept");
    assert_eq!(lease.holder, HOLDER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_asked_to_stop_writes_nothing_more_and_keeps_its_watermarks() {
    let mut w = World::new("").await;
    w.spira.add_incident(1, "Not before the restart", 1);
    let opts = CycleOptions {
        trigger: "schedule",
        mode: CycleMode::Sync,
        http: world::settings(),
        stop: Some(Arc::new(AtomicBool::new(true))),
        progress: None,
    };
    let report = run_plugin(&w.config.plugins[0], &mut w.store, &opts).await;
    assert!(report.stopped);
    assert_eq!(report.result(), "interrupted");
    assert_eq!(report.totals().writes(), 0);
    assert_eq!(issue_titled(&w, "Not before the restart"), 0);
    for side in [Side::TestManagement, Side::IssueTracker] {
        assert_eq!(w.store.watermark("t", 1, side).unwrap(), None);
    }
    // The next cycle picks it up.
    let report = w.cycle().await;
    assert!(!report.stopped);
    assert_eq!(issue_titled(&w, "Not before the restart"), 1);
}
