//! The labsync binary against a server that accepts connections and never
//! answers (issue 14 point 1, issue 16 point 4): `check` and `sync` end
//! within a few `http_timeout`s with one error naming the side, SIGTERM
//! ends `labsync run` within seconds, and the daemon stops pinging the
//! systemd watchdog while it is wedged.
//!
//! The bounds on time are generous ratios of `http_timeout` that the old
//! behaviour (six tries per request, every item waiting in turn) clearly
//! broke: a loaded machine can be slower, not that much slower.
//! scripts/hung_server.sh prints the same measurements.

use labsync_testkit::world;

use std::process::Stdio;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use labsync::http::BREAKER_MISSES;
use labsync_testkit::daemon::{NotifySocket, count, eventually, labsync, terminate};
use world::World;

/// The world's configuration with a top-level `http_timeout`, written out.
fn config_with(w: &World, http_timeout: &str) -> std::path::PathBuf {
    let path = w.dir.path().join("hung.toml");
    std::fs::write(
        &path,
        format!("http_timeout = \"{http_timeout}\"\n{}", w.text),
    )
    .unwrap();
    path
}

fn hung(w: &World) -> u64 {
    w.spira.faults().counts().hung.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_and_sync_end_within_a_few_timeouts_with_one_error_naming_the_side() {
    let w = World::new("concurrency = 8").await;
    for n in 0..6 {
        w.gitlab
            .create_issue_as("alice", &format!("Bug {n}"), "steps");
    }
    w.spira.faults().hang("", 0);
    let config = config_with(&w, "1s");
    let db = w.dir.path().join("cli.db");

    let started = Instant::now();
    let check = w.labsync_with(&config, &db, &["check"]).await;
    let took = started.elapsed();
    assert_eq!(check.code, 2, "{}", check.stdout);
    let spira_lines: Vec<&str> = check
        .stdout
        .lines()
        .filter(|l| l.contains("Spira") && l.contains("not reachable"))
        .collect();
    assert_eq!(spira_lines.len(), 1, "{}", check.stdout);
    assert!(spira_lines[0].contains("unreachable"), "{}", spira_lines[0]);
    // Old: 6 tries and their backoff, about 16 x http_timeout.
    assert!(took < Duration::from_secs(10), "check took {took:?}");

    let before = hung(&w);
    let started = Instant::now();
    let sync = w.labsync_with(&config, &db, &["sync"]).await;
    let took = started.elapsed();
    assert_eq!(sync.code, 2, "{}", sync.stderr);
    // The Spira listing, tried until the breaker opened; nothing after.
    assert_eq!(hung(&w) - before, u64::from(BREAKER_MISSES));
    let errors: Vec<&str> = sync
        .stderr
        .lines()
        .filter(|l| l.starts_with("labsync: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", sync.stderr);
    assert!(
        errors[0].contains("Spira project 1: Spira is unreachable: "),
        "{}",
        errors[0]
    );
    let logged = sync
        .stderr
        .lines()
        .filter(|l| l.contains("project stopped") || l.contains("project not synced"))
        .count();
    assert_eq!(logged, 1, "logged once:\n{}", sync.stderr);
    assert!(
        !sync.stderr.contains("failed: "),
        "no item failed: {}",
        sync.stderr
    );
    assert!(took < Duration::from_secs(10), "sync took {took:?}");
    assert_eq!(count(&db, "SELECT count(*) FROM errors"), 0);
}

/// Spira answers the project's setup, then hangs with eight items in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_side_hanging_mid_cycle_is_logged_once_not_once_per_item_in_flight() {
    let w = World::new("concurrency = 8").await;
    for n in 0..8 {
        w.spira.add_incident(1, &format!("Defect {n}"), 1);
    }
    // The incident search answers; the setup's user list hangs.
    w.spira.faults().hang("/projects/{project_id}/users", 0);
    let config = config_with(&w, "1s");
    let db = w.dir.path().join("cli.db");
    let sync = w.labsync_with(&config, &db, &["sync"]).await;
    assert_eq!(sync.code, 2, "{}", sync.stderr);
    let logged = sync
        .stderr
        .lines()
        .filter(|l| l.contains("project stopped") || l.contains("project not synced"))
        .count();
    assert_eq!(logged, 1, "logged once:\n{}", sync.stderr);
    // The setup was loaded once, not once per waiting item.
    assert_eq!(hung(&w), u64::from(BREAKER_MISSES), "{}", sync.stderr);
    assert_eq!(count(&db, "SELECT count(*) FROM errors"), 0);
}

/// SIGTERM while a request waits on a server that never answers: the
/// daemon ends within seconds (the unit's TimeoutStopSec is 30 s), with
/// the exit code of a clean stop, and the run is recorded as interrupted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_daemon_within_seconds_whatever_the_server_does() {
    let w = World::new(r#"schedule = "10s""#).await;
    w.spira.add_incident(1, "Waiting", 1);
    w.spira.faults().hang("", 0);
    let config = config_with(&w, "60s");
    let db = w.dir.path().join("daemon.db");
    let child = labsync(&config, &db, &["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    eventually("a request to hang", Duration::from_secs(30), || {
        hung(&w) >= 1
    })
    .await;
    // Half of http_timeout; the old daemon waited out six of them.
    let stopped = terminate(child, Duration::from_secs(30)).await;
    assert_eq!(stopped.code(), Some(0));
    let interrupted = "SELECT count(*) FROM runs WHERE result = 'interrupted'";
    assert_eq!(count(&db, interrupted), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM leases"), 0);
    assert_eq!(count(&db, "SELECT count(*) FROM errors"), 0);
}

/// WatchdogSec 0.4 s: pings while idle and after a cycle; none while a
/// request hangs (http_timeout is far longer), so systemd would restart it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchdog_is_pinged_only_while_the_daemon_makes_progress() {
    let w = World::new(r#"schedule = "10s""#).await;
    let config = config_with(&w, "60s");
    let db = w.dir.path().join("daemon.db");
    let mut notify = NotifySocket::bind(w.dir.path());
    let mut child = labsync(&config, &db, &["run"])
        .env("NOTIFY_SOCKET", &notify.path)
        .env("WATCHDOG_USEC", "400000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    notify.wait_for("READY=1", Duration::from_secs(10)).await;
    notify
        .wait_for("STATUS=t: ok", Duration::from_secs(20))
        .await;
    // Idle after a cycle: pinged.
    notify.wait_for("WATCHDOG=1", Duration::from_secs(5)).await;
    notify.wait_for("WATCHDOG=1", Duration::from_secs(5)).await;

    // The next cycle's first Spira request never gets an answer.
    w.spira.faults().hang("", 0);
    eventually("the next cycle to hang", Duration::from_secs(30), || {
        hung(&w) >= 1
    })
    .await;
    // A ping decided just before the hang may still be on its way.
    notify.drain(Duration::from_secs(2)).await;
    let late = notify.drain(Duration::from_secs(3)).await;
    let pings = late
        .iter()
        .filter(|d| d.lines().any(|l| l == "WATCHDOG=1"))
        .count();
    assert_eq!(pings, 0, "pinged while wedged: {late:?}");
    assert!(child.try_wait().unwrap().is_none(), "the daemon died");

    let stopped = terminate(child, Duration::from_secs(30)).await;
    assert_eq!(stopped.code(), Some(0));
}

/// A side that does not answer: the daemon says so once per cycle and
/// tries again after 30 s (then longer), not on its 10 s schedule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_retries_an_unreachable_side_with_backoff() {
    let w = World::new(r#"schedule = "10s""#).await;
    w.spira.faults().hang("", 0);
    let config = config_with(&w, "1s");
    let db = w.dir.path().join("daemon.db");
    let log = w.dir.path().join("daemon.log");
    let mut notify = NotifySocket::bind(w.dir.path());
    let child = labsync(&config, &db, &["run"])
        .env("NOTIFY_SOCKET", &notify.path)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let status = notify
        .wait_for("STATUS=t: failed", Duration::from_secs(30))
        .await;
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("unreachable: trying again with backoff")
            && logged.contains("retry_in=30s"),
        "{logged}"
    );
    assert_eq!(hung(&w), u64::from(BREAKER_MISSES));
    // The STATUS line's next run is the backoff's, not the schedule's.
    let next = status
        .rsplit("next ")
        .next()
        .unwrap_or_default()
        .to_string();
    let next = chrono::NaiveTime::parse_from_str(&next, "%H:%M:%S").unwrap();
    let now = chrono::Local::now().time();
    let ahead = (next - now).num_seconds().rem_euclid(86_400);
    assert!((15..=31).contains(&ahead), "next in {ahead} s: {status}");
    let stopped = terminate(child, Duration::from_secs(30)).await;
    assert_eq!(stopped.code(), Some(0));
}

/// `--sync-now` stopped by Ctrl-C while a request hangs: like the daemon,
/// it finishes (here: abandons after the grace) the items in hand, records
/// the run as interrupted, releases its lease and queues nothing; its exit
/// code says it was interrupted (130, as a shell reports SIGINT). A second
/// signal ends it at once (SIGTERM twice: 143).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_stops_on_a_signal_like_the_daemon_and_at_once_on_a_second() {
    let w = World::new("").await;
    w.spira.add_incident(1, "Waiting", 1);
    w.spira.faults().hang("", 0);
    let config = config_with(&w, "60s");
    let db = w.dir.path().join("now.db");
    let interrupted = "SELECT count(*) FROM runs WHERE result = 'interrupted'";
    for (round, signals, code) in [(1, &["INT"][..], 130), (2, &["TERM", "TERM"][..], 143)] {
        let mut child = labsync(&config, &db, &["--sync-now"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let reader = {
            let seen = seen.clone();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stderr)
                    .lines()
                    .map_while(Result::ok)
                {
                    seen.lock().unwrap().push_str(&(line + "\n"));
                }
            })
        };
        let before = hung(&w);
        eventually("a request to hang", Duration::from_secs(30), || {
            hung(&w) > before
        })
        .await;
        for (n, name) in signals.iter().enumerate() {
            labsync_testkit::daemon::signal(&child, name);
            if n + 1 < signals.len() {
                // The first is taken before the second is sent.
                eventually("the stop to be taken", Duration::from_secs(30), || {
                    seen.lock()
                        .unwrap()
                        .contains("stopping: finishing the items in hand")
                })
                .await;
            }
        }
        let status =
            labsync_testkit::daemon::exited(child, Duration::from_secs(60), "the signals").await;
        reader.join().unwrap();
        let said = seen.lock().unwrap().clone();
        assert_eq!(status.code(), Some(code), "round {round}: {said}");
        assert!(
            said.contains("stopping: finishing the items in hand"),
            "{said}"
        );
        if signals.len() == 1 {
            assert_eq!(count(&db, interrupted), 1, "{said}");
        } else {
            assert!(said.contains("stopped at once"), "{said}");
        }
        assert_eq!(count(&db, "SELECT count(*) FROM leases"), 0, "{said}");
        assert_eq!(count(&db, "SELECT count(*) FROM errors"), 0, "{said}");
    }
}

/// A cycle that passed its deadline for a side is backed off like one that
/// found the side unreachable (issue 15): the daemon tries the plugin again
/// after 30 s, 1 min, …, not at the next tick of its schedule at full cost.
/// The deadline here has passed before the first request (no clock needed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_past_its_deadline_is_tried_again_with_backoff() {
    use chrono::Utc;
    use labsync::connectors::{CycleMode, CycleOptions, run_plugin};
    use labsync::daemon::backoff::Backoff;
    use labsync::http::HttpSettings;

    let mut w = World::new("").await;
    w.spira.add_incident(1, "Slow", 1);
    let past = CycleOptions {
        http: HttpSettings {
            deadline: Some(Duration::ZERO),
            ..world::settings()
        },
        ..world::options(CycleMode::Sync)
    };
    let late = run_plugin(&w.config.plugins[0], &mut w.store, &past).await;
    let fatal = late.projects[0].fatal.as_deref().unwrap_or_default();
    assert!(
        fatal.contains("took too long: the cycle's deadline for it"),
        "{fatal}"
    );

    let mut backoff = Backoff::default();
    let now = Utc::now();
    let retry = backoff.after("t", &late, now).expect("no backoff");
    assert_eq!(retry.wait, Duration::from_secs(30));
    assert_eq!(retry.at, now + chrono::Duration::seconds(30));
    let again = backoff.after("t", &late, now).unwrap();
    assert_eq!(again.wait, Duration::from_secs(60));
    // A cycle that finishes puts the plugin back on its schedule.
    let done = w.cycle().await;
    assert_eq!(backoff.after("t", &done, now), None);
    assert_eq!(
        backoff.after("t", &late, now).unwrap().wait,
        Duration::from_secs(30)
    );
}
