//! `labsync run` as systemd runs it: the real binary against both
//! simulators, talking to a notify socket the test listens on; and the
//! lease that keeps it and a `labsync sync` from syncing the same plugin.

mod world;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use labsync::sim::faults::FaultRule;
use labsync::store::Store;
use labsync::store::lease::DAEMON;
use labsync::store::progress::SideName;
use labsync::sync::{CycleOptions, run_plugin};
use tokio::net::UnixDatagram;
use tokio::time::{Instant, timeout};
use world::World;

/// Polls `ready` every 50 ms until it holds; panics after `limit`.
async fn eventually(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The systemd side of the notify protocol; like systemd, it reads every
/// datagram as it comes.
struct NotifySocket {
    received: tokio::sync::mpsc::UnboundedReceiver<String>,
    path: PathBuf,
    /// Received and not yet asked for, in order.
    unread: Vec<String>,
}

impl NotifySocket {
    fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        let (tx, received) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = socket.recv(&mut buf).await {
                if tx
                    .send(String::from_utf8_lossy(&buf[..n]).to_string())
                    .is_err()
                {
                    break;
                }
            }
        });
        NotifySocket {
            received,
            path,
            unread: Vec::new(),
        }
    }

    /// Waits for a datagram with a line starting with `prefix` (one that
    /// came earlier counts, once); returns that line.
    async fn wait_for(&mut self, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let found = self
                .unread
                .iter()
                .position(|d| d.lines().any(|l| l.starts_with(prefix)));
            if let Some(i) = found {
                let datagram = self.unread.remove(i);
                let line = datagram.lines().find(|l| l.starts_with(prefix));
                return line.unwrap_or_default().to_string();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, self.received.recv()).await {
                Ok(Some(datagram)) => self.unread.push(datagram),
                _ => panic!("no {prefix} within {limit:?}; got {:?}", self.unread),
            }
        }
    }
}

fn labsync(config: &Path, db: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labsync"));
    cmd.args(args)
        .arg("--config")
        .arg(config)
        .arg("--db")
        .arg(db)
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("LABSYNC_LEASE_WAIT");
    cmd
}

/// The daemon's arguments as the shipped unit gives them, with the test's config.
fn unit_exec_start(config: &Path) -> Vec<String> {
    let unit = include_str!("../systemd/labsync.service");
    let line = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("the unit has an ExecStart");
    let mut words = line.split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/labsync"));
    let args: Vec<String> = words
        .map(|w| match w {
            "/etc/labsync/plugins.toml" => config.display().to_string(),
            other => other.to_string(),
        })
        .collect();
    assert_eq!(args.first().map(String::as_str), Some("run"), "{line}");
    assert!(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"));
    assert!(unit.lines().any(|l| l == "Type=notify"));
    args
}

fn signal(child: &Child, name: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn issue_titled(w: &World, title: &str) -> usize {
    w.gitlab
        .issues()
        .iter()
        .filter(|i| i["title"] == title)
        .count()
}

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
    assert!(logged("configuration reloaded"));

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
    // Every lease is given back.
    assert_eq!(count(&db, "SELECT count(*) FROM leases"), 0);
    assert!(logged("cycle done"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_waits_for_a_cycle_held_elsewhere_and_never_double_syncs() {
    let w = World::new("").await;
    w.spira.add_incident(1, "Waiting for its turn", 1);
    let dir = w.dir.path();
    let config = dir.join("plugins.toml");
    std::fs::write(&config, &w.text).unwrap();
    let db = dir.join("labsync.db");
    // Another labsync (on another host, so trusted until it expires) runs a cycle of 't'.
    let mut other = Store::open(&db).unwrap();
    let holder = "4242@elsewhere:cafe";
    assert!(
        other
            .try_acquire("t", holder, chrono::Duration::minutes(2))
            .unwrap()
    );
    w.gitlab.reset_counts();
    w.spira.reset_counts();

    let refused = labsync(&config, &db, &["sync"])
        .env("LABSYNC_LEASE_WAIT", "1s")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(&format!(
            "a cycle of plugin 't' is already running (held by {holder})"
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
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        // Keep draining so the child never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        line
    })
    .await
    .unwrap();
    assert!(first_line.contains("waiting up to 1m"), "{first_line}");
    assert_eq!(issue_titled(&w, "Waiting for its turn"), 0);
    other.release("t", holder).unwrap();
    let status = timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || waiting.wait()),
    )
    .await
    .expect("sync did not finish after the lease was released")
    .unwrap()
    .unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(issue_titled(&w, "Waiting for its turn"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM leases"), 0);
    assert!(other.lease(DAEMON).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_asked_to_stop_writes_nothing_more_and_keeps_its_watermarks() {
    let mut w = World::new("").await;
    w.spira.add_incident(1, "Not before the restart", 1);
    let opts = CycleOptions {
        trigger: "schedule",
        dry_run: false,
        http: world::settings(),
        stop: Some(Arc::new(AtomicBool::new(true))),
    };
    let report = run_plugin(&w.config.plugins[0], &mut w.store, &opts).await;
    assert!(report.stopped);
    assert_eq!(report.totals().writes(), 0);
    assert_eq!(issue_titled(&w, "Not before the restart"), 0);
    for side in [SideName::Spira, SideName::GitLab] {
        assert_eq!(w.store.watermark("t", 1, side).unwrap(), None);
    }
    // The next cycle picks it up.
    let report = w.cycle().await;
    assert!(!report.stopped);
    assert_eq!(issue_titled(&w, "Not before the restart"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_cycle_finishes_the_item_in_hand_and_the_next_cycle_does_the_rest_once() {
    let w = World::new(r#"schedule = "10s""#).await;
    let titles: Vec<String> = (1..=6).map(|n| format!("Defect {n}")).collect();
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
    let spira_marks = "SELECT count(*) FROM watermarks WHERE side = 'spira'";
    assert_eq!(count(&db, spira_marks), 0);
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
