//! The real `labsync run` process, killed with SIGKILL at random moments
//! (creates, comment copies, commits, watermark moves) while people keep
//! editing both sides, then restarted: at the end both sides are equal under
//! the mappings, with nothing duplicated and nothing lost.
//!
//! The randomness is seeded; the seed is printed, and LABSYNC_CRASH_SEED
//! replays a run.

mod world;

use std::process::{Command, Stdio};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use world::World;

const KILLS: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_and_duplicates_nothing() {
    let seed: u64 = std::env::var("LABSYNC_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("crash test seed: {seed} (replay with LABSYNC_CRASH_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let w = World::new(r#"schedule = "10s""#).await;
    // A little latency, so that kills land inside cycles rather than between them.
    for f in [w.gitlab.faults(), w.spira.faults()] {
        f.set_default(labsync::sim::faults::FaultRule {
            latency: Duration::from_millis(8),
            ..Default::default()
        });
    }
    let dir = w.dir.path().to_path_buf();
    let config = dir.join("plugins.toml");
    std::fs::write(&config, &w.text).unwrap();
    let db = dir.join("crash.db");
    let alice = w.spira_user("alice");
    let mut n = 0;
    let mut killed_mid_run = 0;
    for round in 0..KILLS {
        // People keep working between crashes.
        n += 1;
        match rng.random_range(0..6) {
            0 | 1 => {
                w.spira.add_incident(1, &format!("Spira item {n}"), 1);
            }
            2 => {
                w.gitlab
                    .create_issue_as("alice", &format!("GitLab item {n}"), "from GitLab");
            }
            3 => {
                if let Some(i) = w
                    .spira
                    .incidents(1)
                    .get(rng.random_range(0..8usize))
                    .map(|i| i.incident_id)
                {
                    w.spira
                        .add_comment(i, alice, &format!("<p>spira comment {n}</p>"));
                }
            }
            4 => {
                if let Some(iid) = w
                    .gitlab
                    .issues()
                    .get(rng.random_range(0..8usize))
                    .and_then(|i| i["iid"].as_u64())
                {
                    w.gitlab
                        .add_note_as("bob", iid, &format!("gitlab note {n}"));
                }
            }
            _ => {
                if let Some(i) = w
                    .spira
                    .incidents(1)
                    .get(rng.random_range(0..8usize))
                    .map(|i| i.incident_id)
                {
                    w.spira
                        .edit_incident(i, |inc| inc.name = format!("Spira item renamed {n}"));
                }
            }
        }
        w.advance(chrono::Duration::seconds(40));
        let mut child = Command::new(env!("CARGO_BIN_EXE_labsync"))
            .args([
                "--config",
                config.to_str().unwrap(),
                "--db",
                db.to_str().unwrap(),
                "run",
            ])
            .env_remove("NOTIFY_SOCKET")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        let mut waiter = tokio::task::spawn_blocking(move || child.wait());
        // Let it run for a random while (it starts a cycle at once), then kill it.
        let lifetime = Duration::from_millis(rng.random_range(20..600));
        let finished = tokio::time::timeout(lifetime, &mut waiter).await;
        assert!(
            finished.is_err(),
            "round {round} (seed {seed}): labsync run exited by itself: {finished:?}"
        );
        let killed = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success(), "round {round} (seed {seed})");
        // Reaped before the next start, as systemd would.
        waiter.await.unwrap().unwrap();
        killed_mid_run += 1;
    }
    // Everything stops: a clean daemon-less finish with one-shot cycles.
    for f in [w.gitlab.faults(), w.spira.faults()] {
        f.clear();
    }
    for _ in 0..3 {
        w.advance(chrono::Duration::minutes(3));
        let out = Command::new(env!("CARGO_BIN_EXE_labsync"))
            .args([
                "--config",
                config.to_str().unwrap(),
                "--db",
                db.to_str().unwrap(),
                "sync",
            ])
            .env("LABSYNC_LEASE_WAIT", "30s")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "seed {seed}: final sync failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let incidents = w.spira.incidents(1).len();
    assert!(
        incidents >= 10,
        "seed {seed}: the run made too few items to mean anything ({incidents})"
    );
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.assert_converged()));
    assert!(
        outcome.is_ok(),
        "seed {seed}: sides differ after {killed_mid_run} kills"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    // Proof that the kills hit cycles in flight, not idle daemons.
    let cut_short: i64 = conn
        .query_row(
            "SELECT count(*) FROM runs WHERE finished_at IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        cut_short >= 5,
        "seed {seed}: only {cut_short} of {KILLS} kills interrupted a cycle"
    );
    let pending: i64 = conn
        .query_row("SELECT count(*) FROM intents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pending, 0, "seed {seed}: creates left pending");
    eprintln!(
        "crash test: {killed_mid_run} SIGKILLs, {cut_short} of them inside a cycle, {incidents} pairs, converged"
    );
}
