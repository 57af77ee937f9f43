//! A server that answers reads but hangs one route (issue 15: only issue
//! creation, or only incident updates): after a few timeouts in a row that
//! route fails at once for the rest of the cycle with one error naming the
//! side and the operation; the items that need it are queued without each
//! waiting a timeout, and everything else syncs.
//!
//! Nothing here measures time: the hung route's request count says how many
//! timeouts were waited out.

use labsync_testkit::world;

use std::sync::atomic::Ordering;

use labsync::http::BREAKER_MISSES;
use labsync_sim::spira::SpiraSim;
use world::World;

use super::hung::cycle;

const CREATE_ISSUE: &str = "POST /api/v4/projects/{id}/issues";

/// The causes of the queued items.
fn queued(w: &World) -> Vec<String> {
    let rows = w.store.queued_errors("t", 1).unwrap();
    rows.into_iter().map(|e| e.cause).collect()
}

fn naming(causes: &[String], words: &str) -> usize {
    causes.iter().filter(|c| c.contains(words)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gitlab_that_hangs_issue_creation_costs_three_timeouts_and_the_rest_syncs() {
    let mut w = World::new("concurrency = 1").await;
    for n in 0..8 {
        w.spira.add_incident(1, &format!("Defect {n}"), 1);
    }
    for n in 0..3 {
        w.gitlab
            .create_issue_as("alice", &format!("Bug {n}"), "steps");
    }
    w.gitlab.faults().hang(CREATE_ISSUE, 0);
    let r = cycle(&mut w).await;

    let hung = w.gitlab.faults().counts().hung.load(Ordering::SeqCst);
    assert_eq!(
        hung,
        u64::from(BREAKER_MISSES),
        "issue creations that waited out a timeout"
    );
    assert_eq!(r.projects[0].fatal, None, "{r:?}");
    assert!(r.unreachable().is_empty(), "{r:?}");
    // Everything else synced: the GitLab issues reached Spira.
    assert_eq!(w.spira.incidents(1).len(), 8 + 3);
    let causes = queued(&w);
    assert_eq!(causes.len(), 8, "every incident waits for the next cycle");
    let down = "GitLab is not answering issue creation \
                (POST /api/v4/projects/{id}/issues): 3 requests in a row timed out";
    assert_eq!(
        naming(&causes, down),
        8 - (BREAKER_MISSES as usize - 1),
        "{causes:#?}"
    );

    // Back up: everything syncs, nothing twice.
    w.gitlab.faults().clear();
    w.cycle().await;
    w.advance(chrono::Duration::minutes(10));
    w.cycle().await;
    assert_eq!(w.gitlab.issues().len(), 8 + 3);
    assert_eq!(w.spira.incidents(1).len(), 8 + 3);
    assert!(queued(&w).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spira_that_hangs_incident_updates_costs_three_timeouts_and_the_rest_syncs() {
    let mut w = World::new("concurrency = 1").await;
    for n in 0..8 {
        w.gitlab
            .create_issue_as("alice", &format!("Bug {n}"), "steps");
    }
    w.cycle().await;
    w.advance(chrono::Duration::minutes(10));
    let iids = w.issue_iids();
    // Six issues retitled in GitLab: their incidents need an update.
    for &iid in &iids[..6] {
        w.gitlab
            .edit_issue_as("alice", iid, Some(&format!("Bug {iid}, retitled")), None);
    }
    // Two incidents renamed in Spira: their issues need one.
    for name in ["Bug 6", "Bug 7"] {
        let id = w.incident_named(name).incident_id;
        w.spira
            .edit_incident(id, |i| i.name = format!("{name}, renamed"));
    }
    w.advance(chrono::Duration::minutes(1));
    let update = SpiraSim::fault_key("PUT", "/projects/{project_id}/incidents/{incident_id}");
    w.spira.faults().hang(update, 0);
    let r = cycle(&mut w).await;

    let hung = w.spira.faults().counts().hung.load(Ordering::SeqCst);
    assert_eq!(hung, u64::from(BREAKER_MISSES), "updates that waited");
    assert_eq!(r.projects[0].fatal, None, "{r:?}");
    // The Spira side's changes went to GitLab all the same.
    let renamed = w
        .gitlab
        .issues()
        .iter()
        .filter(|i| {
            i["title"]
                .as_str()
                .is_some_and(|t| t.ends_with(", renamed"))
        })
        .count();
    assert_eq!(renamed, 2);
    let causes = queued(&w);
    assert_eq!(causes.len(), 6, "{causes:#?}");
    let down = "Spira is not answering incident update \
                (PUT /Services/v7_0/RestService.svc/projects/{id}/incidents/{id}): \
                3 requests in a row timed out";
    // The first item's own tries tripped the route; every other item
    // failed at once with the route's error.
    assert_eq!(naming(&causes, down), 6, "{causes:#?}");

    w.spira.faults().clear();
    w.advance(chrono::Duration::minutes(10));
    w.cycle().await;
    let retitled = w
        .spira
        .incidents(1)
        .iter()
        .filter(|i| i.name.ends_with(", retitled"))
        .count();
    assert_eq!(retitled, 6);
}

/// Eight creates in flight at once, nothing else: their timeouts come in a
/// row, yet the server answered the others' reads meanwhile, so it is the
/// route that hangs, not the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_route_with_items_in_flight_does_not_take_the_server_down() {
    let mut w = World::new("concurrency = 8").await;
    for n in 0..16 {
        w.spira.add_incident(1, &format!("Defect {n}"), 1);
    }
    for n in 0..4 {
        w.gitlab
            .create_issue_as("alice", &format!("Bug {n}"), "steps");
    }
    w.gitlab.faults().hang(CREATE_ISSUE, 0);
    let r = cycle(&mut w).await;
    assert_eq!(r.projects[0].fatal, None, "{r:?}");
    assert_eq!(w.spira.incidents(1).len(), 16 + 4);
    let hung = w.gitlab.faults().counts().hung.load(Ordering::SeqCst);
    // At most the creates already in flight when the route tripped.
    assert!(hung < 16, "{hung} of 16 creates waited out a timeout");
    assert_eq!(queued(&w).len(), 16);
}
