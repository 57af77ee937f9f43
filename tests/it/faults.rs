//! Full sync scenarios while both simulators misbehave on a fifth of all
//! requests (5xx, dropped connections, 429s and answers past the client's
//! timeout, on every route): once the faults stop, everything converges,
//! with no duplicate issue, incident or comment, and the error queue drains.

use labsync_testkit::world;

use std::time::Duration;

use labsync::connectors::run_plugin;
use labsync::connectors::{CycleMode, CycleOptions};
use labsync_sim::faults::FaultRule;
use world::World;

/// Few retries and a short timeout, so that faults reach the engine.
fn impatient() -> labsync::http::HttpSettings {
    labsync::http::HttpSettings {
        timeout: Duration::from_millis(400),
        max_retries: 1,
        min_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(10),
        max_rate_wait: Duration::from_millis(50),
        ..labsync::http::HttpSettings::default()
    }
}

async fn faulty_cycle(w: &mut World) -> labsync::sync::CycleReport {
    let opts = CycleOptions {
        trigger: "sync-now",
        mode: CycleMode::Sync,
        http: impatient(),
        stop: None,
        progress: None,
    };
    run_plugin(&w.config.plugins[0], &mut w.store, &opts).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_converges_once_the_faults_stop() {
    let mut w = World::new("").await;
    let alice = w.spira_user("alice");
    for n in 0..6 {
        let id = w.spira.add_incident(1, &format!("Spira defect {n}"), 1);
        w.spira
            .edit_incident(id, |i| i.priority_id = Some(1 + n % 4));
        w.spira
            .add_comment(id, alice, &format!("<p>first look at {n}</p>"));
        let iid = w
            .gitlab
            .create_issue_as("alice", &format!("GitLab bug {n}"), "seen in prod");
        w.gitlab
            .add_note_as("bob", iid, &format!("note on bug {n}"));
    }
    let stall = Duration::from_millis(600);
    w.gitlab
        .faults()
        .set_default(FaultRule::hostile(0.2, stall));
    w.spira.faults().set_default(FaultRule::hostile(0.2, stall));
    let mut failed = 0;
    let mut fatal = 0;
    for round in 0..6 {
        let r = faulty_cycle(&mut w).await;
        failed += r.failed_items();
        fatal += usize::from(r.fatal());
        // People keep working while the network is bad.
        let incidents = w.spira.incidents(1);
        if let Some(i) = incidents.get(round % incidents.len().max(1)) {
            let id = i.incident_id;
            w.spira.edit_incident(id, |i| {
                i.name = format!("Spira defect edited in round {round}")
            });
        }
        w.advance(chrono::Duration::minutes(3));
    }
    let injected = w
        .gitlab
        .faults()
        .counts()
        .requests
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        failed + fatal > 0,
        "the faults must have reached the engine at least once"
    );
    w.gitlab.faults().clear();
    w.spira.faults().clear();
    for _ in 0..3 {
        w.advance(chrono::Duration::minutes(3));
        w.cycle().await;
    }
    w.assert_converged();
    // Every edit made during the faults arrived: the last title of each incident is in GitLab.
    for incident in w.spira.incidents(1) {
        assert!(
            w.gitlab
                .issues()
                .iter()
                .any(|i| i["title"] == incident.name.as_str()),
            "{} lost",
            incident.name
        );
    }
    assert_eq!(w.gitlab.issues().len(), 12, "6 + 6 items, no duplicates");
    let conn = rusqlite::Connection::open(w.store.path()).unwrap();
    let queued: i64 = conn
        .query_row("SELECT count(*) FROM errors", [], |r| r.get(0))
        .unwrap();
    let pending: i64 = conn
        .query_row("SELECT count(*) FROM intents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        (queued, pending),
        (0, 0),
        "the error queue drained and no create is left pending"
    );
    eprintln!(
        "faults run: {injected} GitLab requests, {failed} item failures, {fatal} stopped projects, converged"
    );
}
