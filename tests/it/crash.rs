//! The real `labsync run` process, killed with SIGKILL in the middle of its
//! cycles (at the start, inside a create or a comment copy, just after a
//! write was answered) while people keep editing both sides, then restarted:
//! at the end both sides are equal under the mappings, with nothing
//! duplicated and nothing lost.
//!
//! Each kill is aimed, not timed: a trap in the simulators holds a chosen
//! request in flight (processed or not), and the process is killed while it
//! waits for the answer. So every kill lands inside a cycle however busy the
//! machine is. The choices are seeded; the seed is printed, and
//! LABSYNC_CRASH_SEED replays a run.

use labsync_testkit::world;

use std::process::{Command, Stdio};

use labsync_sim::spira::SpiraSim;
use labsync_sim::trap::{Catch, Trap};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use world::World;

const KILLS: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_inside_cycles_loses_and_duplicates_nothing() {
    let seed: u64 = std::env::var("LABSYNC_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("crash test seed: {seed} (replay with LABSYNC_CRASH_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let w = World::new(r#"schedule = "10s""#).await;
    let dir = w.dir.path().to_path_buf();
    let config = dir.join("plugins.toml");
    std::fs::write(&config, &w.text).unwrap();
    let db = dir.join("crash.db");
    let alice = w.spira_user("alice");
    let mut n = 0;
    let mut killed_mid_run = 0;
    let mut held = Vec::new();
    let mut after_a_write = 0;
    for round in 0..KILLS {
        // People keep working between crashes.
        n += 1;
        let action = rng.random_range(0..6);
        let new_item = action <= 2 || !changed_existing(&w, &mut rng, action, n, alice);
        if new_item {
            if action == 2 {
                w.gitlab
                    .create_issue_as("alice", &format!("GitLab item {n}"), "from GitLab");
            } else {
                w.spira.add_incident(1, &format!("Spira item {n}"), 1);
            }
        }
        w.advance(chrono::Duration::seconds(40));
        // Where this round's kill lands. A new incident makes at least three
        // writes (claim, create, link back), a new issue two (create, link
        // back), a change to an existing item one.
        let writes = match (new_item, action) {
            (false, _) => 1,
            (true, 2) => 2,
            (true, _) => 3,
        };
        let catch = match rng.random_range(0..6) {
            0 => Catch::Request(rng.random_range(1..=2)),
            1 | 2 => Catch::Write(rng.random_range(1..=writes)),
            3 | 4 => Catch::RequestAfterWrites(rng.random_range(1..=writes)),
            // The create of the new item's counterpart.
            _ if new_item && action == 2 => Catch::First(SpiraSim::fault_key(
                "POST",
                "/projects/{project_id}/incidents",
            )),
            _ if new_item => Catch::First("POST /api/v4/projects/{id}/issues".into()),
            _ => Catch::Write(1),
        };
        let trap = Trap::new(catch.clone(), rng.random_bool(0.5));
        w.gitlab.faults().arm(&trap);
        w.spira.faults().arm(&trap);
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
        // Kill it while the chosen request is held (it starts a cycle at
        // once, and the round's change guarantees the request comes).
        tokio::select! {
            () = trap.sprung() => {}
            exited = &mut waiter => panic!("round {round} (seed {seed}): labsync run exited by itself: {exited:?}"),
        }
        let killed = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success(), "round {round} (seed {seed})");
        // Reaped before the next start, as systemd would.
        waiter.await.unwrap().unwrap();
        trap.release();
        w.gitlab.faults().disarm();
        w.spira.faults().disarm();
        held.push(format!("{catch:?} → {}", trap.held().unwrap_or_default()));
        if !matches!(catch, Catch::Request(_)) {
            after_a_write += 1;
        }
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
    // A write is made only inside a cycle; a kill at the first requests of
    // a start may come before its cycle is recorded.
    assert!(
        cut_short >= after_a_write,
        "seed {seed}: {cut_short} cycles cut short by {after_a_write} kills after a write; held:\n{}",
        held.join("\n")
    );
    let pending: i64 = conn
        .query_row("SELECT count(*) FROM intents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pending, 0, "seed {seed}: creates left pending");
    eprintln!("held when killed:\n{}", held.join("\n"));
    eprintln!(
        "crash test: {killed_mid_run} SIGKILLs, {cut_short} of them inside a cycle, {incidents} pairs, converged"
    );
}

/// Makes one person's change to an existing item on either side, as `action`
/// (3 to 5) says; false when there is no such item yet.
fn changed_existing(w: &World, rng: &mut StdRng, action: u32, n: usize, alice: u32) -> bool {
    let incident = w
        .spira
        .incidents(1)
        .get(rng.random_range(0..8usize))
        .map(|i| i.incident_id);
    let issue = w
        .gitlab
        .issues()
        .get(rng.random_range(0..8usize))
        .and_then(|i| i["iid"].as_u64());
    match (action, incident, issue) {
        (3, Some(i), _) => {
            w.spira
                .add_comment(i, alice, &format!("<p>spira comment {n}</p>"));
        }
        (4, _, Some(iid)) => {
            w.gitlab
                .add_note_as("bob", iid, &format!("gitlab note {n}"));
        }
        (5, Some(i), _) => {
            w.spira
                .edit_incident(i, |inc| inc.name = format!("Spira item renamed {n}"));
        }
        _ => return false,
    }
    true
}
