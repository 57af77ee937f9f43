//! A server that accepts connections and never answers (issue 14, point 1):
//! the project's cycle fails fast with one error naming the side, the error
//! queue is not flooded, and nothing is lost once the server is back.
//!
//! Nothing here measures time: the hung side's request count and the
//! report's structure say whether the breaker did its work.

use labsync_testkit::world;

use std::sync::atomic::Ordering;
use std::time::Duration;

use labsync::connectors::run_plugin;
use labsync::connectors::{CycleMode, CycleOptions};
use labsync::http::{BREAKER_MISSES, HttpSettings};
use labsync::sync::CycleReport;
use world::World;

/// A short timeout, so that each hung request ends soon; quick retries.
pub(crate) fn impatient() -> HttpSettings {
    HttpSettings {
        timeout: Duration::from_secs(1),
        ..world::settings()
    }
}

pub(crate) async fn cycle(w: &mut World) -> CycleReport {
    let opts = CycleOptions {
        http: impatient(),
        ..world::options(CycleMode::Sync)
    };
    run_plugin(&w.config.plugins[0], &mut w.store, &opts).await
}

fn queued(w: &World) -> usize {
    w.store.queued_errors("t", 1).unwrap().len()
}

/// The one error of the cycle: the project's fatal line.
fn the_error(r: &CycleReport) -> &str {
    assert_eq!(r.projects.len(), 1, "{r:?}");
    r.projects[0].fatal.as_deref().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spira_that_never_answers_stops_the_project_after_a_few_tries_and_queues_nothing() {
    let mut w = World::new("concurrency = 4").await;
    for n in 0..5 {
        w.spira.add_incident(1, &format!("Defect {n}"), 1);
        w.gitlab
            .create_issue_as("alice", &format!("Bug {n}"), "steps");
    }
    w.spira.faults().hang("", 0);
    let r = cycle(&mut w).await;
    let error = the_error(&r);
    assert!(
        error.starts_with("Spira is unreachable: ") && error.contains("no answer within 1 s"),
        "{error}"
    );
    assert_eq!(r.unreachable(), vec!["Spira"]);
    // The listing's request, tried until the breaker opened; nothing after.
    let hung = w.spira.faults().counts().hung.load(Ordering::SeqCst);
    assert_eq!(hung, u64::from(BREAKER_MISSES));
    assert_eq!(queued(&w), 0, "no item is queued for a server that is down");
    assert_eq!(r.failed_items(), 0);
    assert_eq!(r.result(), "failed");

    // Back up: everything syncs, nothing twice.
    w.spira.faults().clear();
    w.cycle().await;
    w.advance(chrono::Duration::minutes(10));
    w.cycle().await;
    assert_eq!(w.gitlab.issues().len(), 10);
    assert_eq!(w.spira.incidents(1).len(), 10);
}

/// Spira answers the listing and the project's setup, then stops answering
/// while the items are synced, one at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spira_that_hangs_mid_cycle_fails_the_cycle_once_without_flooding_the_queue() {
    let mut w = World::new("concurrency = 1").await;
    for n in 0..8 {
        w.gitlab
            .create_issue_as("alice", &format!("Bug {n}"), "steps");
    }
    // The incident search and the setup's 8 reads (tests/it/cost.rs) answer.
    w.spira.faults().hang("", 9);
    let r = cycle(&mut w).await;
    let error = the_error(&r);
    assert!(error.starts_with("Spira is unreachable: "), "{error}");
    // The item's request until the breaker opened, and one probe: a request
    // answered earlier in the cycle, sent again to tell a hung server from a
    // hung route (tests/it/hung_routes.rs). It got no answer either.
    let hung = w.spira.faults().counts().hung.load(Ordering::SeqCst);
    assert_eq!(hung, u64::from(BREAKER_MISSES) + 1, "{error}");
    assert!(
        queued(&w) < BREAKER_MISSES as usize,
        "the queue holds {} items",
        queued(&w)
    );

    w.spira.faults().clear();
    w.cycle().await;
    w.advance(chrono::Duration::minutes(10));
    w.cycle().await;
    assert_eq!(w.spira.incidents(1).len(), 8, "one incident per issue");
    assert_eq!(queued(&w), 0);
}

/// GitLab stops answering in the middle of the Spira items, with several
/// items in flight: one error, and the in-flight items are not queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gitlab_that_hangs_with_items_in_flight_fails_the_cycle_once() {
    let mut w = World::new("concurrency = 8").await;
    for n in 0..12 {
        w.spira.add_incident(1, &format!("Defect {n}"), 1);
    }
    // The identity check, and the setup's reads, answer; then nothing does.
    w.gitlab.faults().hang("", 8);
    let r = cycle(&mut w).await;
    let error = the_error(&r);
    assert!(error.starts_with("GitLab is unreachable: "), "{error}");
    assert_eq!(r.unreachable(), vec!["GitLab"]);
    assert!(queued(&w) < BREAKER_MISSES as usize, "{}", queued(&w));
    // Each item in flight sent at most one request before the breaker
    // opened: none waited out its own retries.
    let hung = w.gitlab.faults().counts().hung.load(Ordering::SeqCst);
    // (And one probe: a request answered earlier, sent again, unanswered.)
    assert!(hung <= 8 + u64::from(BREAKER_MISSES) + 1, "{hung}");

    w.gitlab.faults().clear();
    w.cycle().await;
    w.advance(chrono::Duration::minutes(10));
    w.cycle().await;
    assert_eq!(w.gitlab.issues().len(), 12, "one issue per incident");
    assert_eq!(queued(&w), 0);
}
