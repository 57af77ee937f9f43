//! `labsync status` tells health: the cause of a failed cycle, whether the
//! daemon is alive, when it runs next, and `status --check` for monitoring
//! (exit 0 healthy, 1 degraded, 2 unhealthy, one line saying why).

use labsync_testkit::cli;
use labsync_testkit::world;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};
use cli::{Run, Scratch, VALID};
use labsync::config::SecretSource;
use labsync::model::Side;
use labsync::secret::Secret;
use labsync::store::Store;
use labsync::store::lease::DAEMON;
use labsync::store::progress::PARK_AFTER;
use world::World;

/// A database whose plugin finished an `ok` cycle just now.
fn synced() -> (Scratch, PathBuf, Store) {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    s.init_db(&config);
    let mut store = Store::open(&s.path("labsync.db")).unwrap();
    let run = store.start_run("webshop", "schedule").unwrap();
    store.finish_run(run, "ok", &serde_json::json!({})).unwrap();
    (s, config, store)
}

fn check(s: &Scratch, config: &Path, extra: &[&str]) -> Run {
    let run = s.labsync(config, &[&["status", "--check"][..], extra].concat());
    assert_eq!(
        run.stdout.lines().count(),
        1,
        "one line: {}\n{}",
        run.stdout,
        run.stderr
    );
    run
}

#[test]
fn healthy_after_a_recent_cycle_with_nothing_failing() {
    let (s, config, _store) = synced();
    let run = check(&s, &config, &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.starts_with("healthy: 1 plugin(s) in sync"),
        "{}",
        run.stdout
    );
    let json = s.labsync(&config, &["status", "--check", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        (doc["health"].as_str(), doc["exit"].as_i64()),
        (Some("healthy"), Some(0))
    );
}

#[test]
fn degraded_while_items_fail_or_wait_parked() {
    let (s, config, mut store) = synced();
    let then = Utc::now() - Duration::minutes(5);
    store
        .record_error("webshop", 1, Side::TestManagement, 101, "HTTP 500", then)
        .unwrap();
    for _ in 0..PARK_AFTER {
        store
            .record_error("webshop", 1, Side::IssueTracker, 7, "too long", then)
            .unwrap();
    }
    let run = check(&s, &config, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .starts_with("degraded: plugin 'webshop', PR:1: 2 item(s) failing (1 parked"),
        "{}",
        run.stdout
    );
}

#[test]
fn unhealthy_without_a_successful_cycle_within_max_age() {
    let (s, config, store) = synced();
    drop(store);
    let two_hours_ago = (Utc::now() - Duration::hours(2)).to_rfc3339();
    rusqlite::Connection::open(s.path("labsync.db"))
        .unwrap()
        .execute(
            "UPDATE runs SET started_at = ?1, finished_at = ?1",
            [&two_hours_ago],
        )
        .unwrap();
    let run = check(&s, &config, &["--max-age", "30m"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("unhealthy: plugin 'webshop': no successful cycle for 2h")
            && run.stdout.contains("(max 30m)"),
        "{}",
        run.stdout
    );
    // Within a longer allowance it is fine.
    assert_eq!(check(&s, &config, &["--max-age", "3h"]).code, 0);
}

#[test]
fn unhealthy_when_the_daemon_died_holding_its_lease() {
    let (s, config, mut store) = synced();
    assert!(
        store
            .try_acquire(DAEMON, "4242@elsewhere:0", Duration::seconds(-1))
            .unwrap()
    );
    let run = check(&s, &config, &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("labsync run (4242@elsewhere:0) stopped renewing its lease"),
        "{}",
        run.stdout
    );
    let human = s.labsync(&config, &["status"]);
    assert!(
        human
            .stdout
            .starts_with("daemon: gone: holder 4242@elsewhere:0"),
        "{}",
        human.stdout
    );
}

#[test]
fn status_shows_the_live_daemon_and_the_next_cycle() {
    let (s, config, mut store) = synced();
    let run = s.labsync(&config, &["status"]);
    assert!(
        run.stdout.starts_with("daemon: not running"),
        "{}",
        run.stdout
    );
    assert!(
        store
            .try_acquire(DAEMON, "77@here:1", Duration::minutes(2))
            .unwrap()
    );
    let next = Utc::now() + Duration::minutes(4);
    store
        .record_schedule(&BTreeMap::from([("webshop".to_string(), next)]))
        .unwrap();
    let run = s.labsync(&config, &["status"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(
        out.starts_with("daemon: running, holder 77@here:1, heartbeat "),
        "{out}"
    );
    let shown = next.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    assert!(out.contains(&format!("next cycle: {shown} (in ")), "{out}");
    assert!(out.contains("last success: "), "{out}");
    let doc: serde_json::Value =
        serde_json::from_str(&s.labsync(&config, &["status", "--json"]).stdout).unwrap();
    assert_eq!(doc["daemon"]["holder"], "77@here:1");
    assert_eq!(doc["daemon"]["alive"], true);
    assert!(doc["plugins"][0]["next_run"].is_string(), "{doc}");
}

/// A cycle that cannot even start (GitLab refuses the token) is recorded
/// with its cause; `status` shows it and `--check` calls it unhealthy.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_cycle_shows_its_cause_and_is_unhealthy() {
    let mut w = World::new("").await;
    w.cycle().await;
    w.config.plugins[0].gitlab.token = SecretSource::Inline(Secret::new("glpat-wrong-wrong-wrong"));
    let report = w.cycle_that_may_fail().await;
    assert!(report.fatal());
    let status = w.labsync(&["status"]).await;
    let cause = status
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("cause: "))
        .unwrap_or_else(|| panic!("no cause shown:\n{}", status.stdout));
    assert!(cause.contains("PR:1: "), "{cause}");
    let check = w.labsync(&["status", "--check"]).await;
    assert_eq!(check.code, 2, "{}", check.stdout);
    assert!(
        check
            .stdout
            .starts_with("unhealthy: plugin 't': last cycle failed: PR:1: "),
        "{}",
        check.stdout
    );
    assert!(!check.stdout.contains("glpat-wrong"), "{}", check.stdout);
}
