//! `labsync run` as systemd runs it: the real binary against both
//! simulators, talking to a notify socket the test listens on.

use labsync_testkit::world;

use std::process::{Command, Stdio};
use std::time::Duration;

use labsync_sim::faults::FaultRule;
use labsync_testkit::daemon::{
    NotifySocket, count, eventually, issue_titled, labsync, signal, unit_exec_start,
};
use tokio::time::timeout;
use world::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_syncs_reloads_on_sighup_and_stops_cleanly_on_sigterm() {
    let w = World::new(r#"schedule = "10s""#).await;
    w.spira
        .add_incident(1, "Filed before the daemon started", 1);
    let dir = w.dir.path();
    let config = dir.join("plugins.toml");
    std::fs::write(&config, &w.text).unwrap();
    let db = dir.join("daemon.db");
    let log = dir.join("daemon.log");
    let mut notify = NotifySocket::bind(dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_labsync"))
        .args(unit_exec_start(&config))
        .arg("--db")
        .arg(&db)
        .env_remove("LABSYNC_LEASE_WAIT")
        .env("NOTIFY_SOCKET", &notify.path)
        .env("WATCHDOG_USEC", "400000")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let logged = |text: &str| {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(text)
    };

    notify.wait_for("READY=1", Duration::from_secs(10)).await;
    // WatchdogSec is set (here 0.4 s): pinged at half of it.
    notify.wait_for("WATCHDOG=1", Duration::from_secs(2)).await;
    notify.wait_for("WATCHDOG=1", Duration::from_secs(2)).await;

    // A second daemon on the same database refuses to start.
    let second = labsync(&config, &db, &["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let second = timeout(
        Duration::from_secs(10),
        tokio::task::spawn_blocking(move || second.wait_with_output()),
    )
    .await
    .expect("a second daemon on the same database did not refuse to start")
    .unwrap()
    .unwrap();
    assert_eq!(second.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("labsync run is already running on this database"),
        "{stderr}"
    );

    eventually(
        "the incident to reach GitLab",
        Duration::from_secs(20),
        || issue_titled(&w, "Filed before the daemon started") == 1,
    )
    .await;
    let status = notify.wait_for("STATUS=t: ", Duration::from_secs(20)).await;
    assert!(
        status.contains("t: ok at") && status.contains("(1 created, 0 updated, 0 failed); next "),
        "{status}"
    );
    // `labsync status` sees the daemon alive, its next cycle and the success.
    let shown = labsync(&config, &db, &["status", "--json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(doc["daemon"]["alive"], true, "{doc}");
    assert!(doc["daemon"]["heartbeat"].is_string(), "{doc}");
    assert!(doc["plugins"][0]["next_run"].is_string(), "{doc}");
    assert!(doc["plugins"][0]["last_success"].is_string(), "{doc}");
    let check = labsync(&config, &db, &["status", "--check"])
        .output()
        .unwrap();
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    // A broken config is refused with its error; the daemon keeps going.
    let broken = w
        .text
        .replace(r#"schedule = "10s""#, r#"schedule = "now and then""#);
    assert_ne!(broken, w.text);
    std::fs::write(&config, broken).unwrap();
    signal(&child, "HUP");
    eventually("the reload to be refused", Duration::from_secs(10), || {
        logged("reload refused")
    })
    .await;
    eventually("the cause to be logged", Duration::from_secs(5), || {
        logged("now and then")
    })
    .await;
    let refused = notify
        .wait_for("STATUS=reload refused", Duration::from_secs(5))
        .await;
    assert!(
        refused.contains("schedule") && refused.contains("running the previous configuration"),
        "{refused}"
    );
    assert!(child.try_wait().unwrap().is_none(), "the daemon died");
    let priorities = "SELECT count(*) FROM priority_mappings WHERE plugin = 't'";
    assert_eq!(count(&db, priorities), 4);

    // A good one is applied: one priority row fewer.
    let fewer = w
        .text
        .replace(r#"{ spira = "4 - Low", gitlab = "priority::low" },"#, "");
    assert_ne!(fewer, w.text);
    std::fs::write(&config, fewer).unwrap();
    signal(&child, "HUP");
    eventually(
        "the new config to be applied",
        Duration::from_secs(10),
        || count(&db, priorities) == 3,
    )
    .await;
    // The rows change before the reload is logged: wait for the lines, not
    // for the database (a loaded machine showed the gap).
    eventually("the reload to be logged", Duration::from_secs(10), || {
        logged("configuration reloaded")
    })
    .await;
    // The reload says what changed.
    eventually("what changed to be logged", Duration::from_secs(10), || {
        logged("plugin 't': project PR:1: priorities 4 → 3 row(s)")
    })
    .await;

    // Still syncing after the reload.
    w.spira.add_incident(1, "Filed after the reload", 1);
    eventually(
        "the second incident to reach GitLab",
        Duration::from_secs(30),
        || issue_titled(&w, "Filed after the reload") == 1,
    )
    .await;

    signal(&child, "TERM");
    notify.wait_for("STOPPING=1", Duration::from_secs(10)).await;
    let waited = timeout(
        Duration::from_secs(10),
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await
    .expect("labsync run did not stop within 10 s of SIGTERM")
    .unwrap()
    .unwrap();
    assert_eq!(
        waited.code(),
        Some(0),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
    assert_eq!(issue_titled(&w, "Filed before the daemon started"), 1);
    // Every lease is given back, and no next cycle is announced.
    assert_eq!(count(&db, "SELECT count(*) FROM leases"), 0);
    assert_eq!(count(&db, "SELECT count(*) FROM schedule"), 0);
    let log_text = std::fs::read_to_string(&log).unwrap();
    let done = log_text
        .lines()
        .find(|l| l.contains("cycle done"))
        .unwrap_or_else(|| panic!("no cycle line:\n{log_text}"));
    assert!(
        done.contains("duration=") && done.contains("next="),
        "the daemon's cycle line says how long it took and when the next runs: {done}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_now_during_a_daemon_cycle_is_refused_and_sigterm_finishes_the_items_in_hand() {
    // Two items in flight at a time: SIGTERM lets them finish, takes no more.
    let w = World::new("schedule = \"10s\"\nconcurrency = 2").await;
    let titles: Vec<String> = (1..=8).map(|n| format!("Defect {n}")).collect();
    for t in &titles {
        w.spira.add_incident(1, t, 1);
    }
    // A slow GitLab, so that the signal lands in the middle of the cycle.
    w.gitlab.faults().set_default(FaultRule {
        latency: Duration::from_millis(250),
        ..FaultRule::default()
    });
    let dir = w.dir.path();
    let config = dir.join("plugins.toml");
    std::fs::write(&config, &w.text).unwrap();
    let db = dir.join("daemon.db");
    let mut notify = NotifySocket::bind(dir);
    let mut child = labsync(&config, &db, &["run"])
        .env("NOTIFY_SOCKET", &notify.path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    notify.wait_for("READY=1", Duration::from_secs(10)).await;
    let created = || titles.iter().map(|t| issue_titled(&w, t)).sum::<usize>();
    eventually("a first issue", Duration::from_secs(30), || created() >= 1).await;

    // A `labsync --sync-now` from a shell meanwhile does not sync the plugin too.
    let now = labsync(&config, &db, &["--sync-now"])
        .env("LABSYNC_LEASE_WAIT", "0s")
        .output()
        .unwrap();
    assert_eq!(now.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&now.stderr);
    assert!(
        stderr.contains(&format!(
            "a cycle of plugin 't' is already running (held by {}@",
            child.id()
        )),
        "{stderr}"
    );

    signal(&child, "TERM");
    notify.wait_for("STOPPING=1", Duration::from_secs(10)).await;
    let status = timeout(
        Duration::from_secs(10),
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await
    .expect("labsync run did not stop within 10 s of SIGTERM")
    .unwrap()
    .unwrap();
    assert_eq!(status.code(), Some(0));
    let done = created();
    assert!(done < titles.len(), "the cycle did not stop early");
    // The Spira read was cut short: its watermark must not move past it.
    let spira_marks = "SELECT count(*) FROM watermarks WHERE side = 'test-management'";
    assert_eq!(count(&db, spira_marks), 0);
    let interrupted = "SELECT count(*) FROM runs WHERE result = 'interrupted'";
    assert_eq!(count(&db, interrupted), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM leases"), 0);

    // The next cycle does the rest, and nothing twice.
    w.gitlab.faults().clear();
    let out = labsync(&config, &db, &["sync"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for t in &titles {
        assert_eq!(issue_titled(&w, t), 1, "{t}");
    }
    assert_eq!(count(&db, spira_marks), 1);
}
