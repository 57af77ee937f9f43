//! Two labsync installs (separate databases) over the same servers: items
//! are never multiplied, whichever install runs when. Issue 13, item 1:
//! 100 items became 550 issues and 550 incidents in four rounds.

mod world;

use labsync::gitlab::{IssueEdit, ProjectRef};
use labsync::sync::CycleReport;
use world::World;

fn iid_named_by(w: &World, incident: u32) -> Option<String> {
    w.spira
        .incident(incident)
        .and_then(|i| i.custom.get(&1).and_then(|v| v.as_str().map(String::from)))
}

fn warnings(r: &CycleReport) -> Vec<String> {
    r.projects.iter().flat_map(|p| p.warnings.clone()).collect()
}

/// Both installs allowed to sync: run one after the other, each item keeps
/// exactly one counterpart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_databases_taking_turns_keep_one_counterpart_per_item() {
    let mut w = World::new("").await;
    let mut b = w.second_install("");
    for n in 0..3 {
        w.spira.add_incident(1, &format!("Incident {n}"), 1);
        w.gitlab
            .create_issue_as("alice", &format!("Issue {n}"), "from GitLab");
    }
    for _round in 0..4 {
        w.cycle().await;
        w.cycle_of(&mut b).await;
        w.advance(chrono::Duration::minutes(3));
    }
    assert_eq!(w.gitlab.issues().len(), 6, "{:#?}", w.gitlab.issues());
    assert_eq!(w.spira.incidents(1).len(), 6);
    w.assert_converged();
}

/// Install B read a new incident before install A's link-back reached it
/// (as two concurrent `labsync sync` runs do), so both made an issue. From
/// then on, measured before the fix: A took B's issue, whose footer names an
/// incident A had linked, for a copied footer and made a new incident for
/// it, B did the same, and so on, one more item per side per round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_race_for_one_incident_does_not_multiply_items() {
    let mut w = World::new("").await;
    let mut b = w.second_install("");
    let x = w.spira.add_incident(1, "Checkout button does nothing", 1);
    w.cycle().await;
    let first = iid_named_by(&w, x).unwrap();
    // What B read: the incident before A's write of its issue's number.
    w.spira.edit_incident(x, |i| {
        i.custom.remove(&1);
    });
    w.cycle_of(&mut b).await;
    assert_eq!(w.gitlab.issues().len(), 2, "the race made a second issue");
    let second = iid_named_by(&w, x).unwrap();
    assert_ne!(first, second);

    let mut reports = Vec::new();
    for _round in 0..4 {
        w.advance(chrono::Duration::minutes(3));
        reports.push(w.cycle().await);
        w.advance(chrono::Duration::minutes(3));
        reports.push(w.cycle_of(&mut b).await);
    }
    assert_eq!(w.spira.incidents(1).len(), 1, "{:#?}", w.spira.incidents(1));
    assert_eq!(w.gitlab.issues().len(), 2, "{:#?}", w.gitlab.issues());
    // Both installs settle on the issue the incident names.
    assert_eq!(iid_named_by(&w, x).unwrap(), second);
    let said: Vec<String> = reports.iter().flat_map(warnings).collect();
    assert!(
        said.iter()
            .any(|l| l.contains(&format!("IN:{x} names #")) && l.contains("but is linked to #")),
        "the duplicate is reported: {said:#?}"
    );
}

/// B read a new issue before A's footer reached it, and listed Spira
/// before A's incident existed: both made an incident. Measured before the
/// fix: A then made a second issue for B's incident, and so on. Every writer
/// keeps the incident with the lowest id; B's is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_race_for_one_issue_keeps_the_first_incident() {
    let mut w = World::new("").await;
    let mut b = w.second_install("");
    w.cycle_of(&mut b).await;
    let before_b_listed = w.spira.clock().now() - chrono::Duration::hours(1);
    w.advance(chrono::Duration::minutes(10));
    let iid = w
        .gitlab
        .create_issue_as("alice", "Search ignores accents", "steps");
    w.cycle().await;
    let kept = w.spira.incidents(1)[0].incident_id;
    // What B read: the issue before A's footer, no incident yet.
    let dev = w.gitlab_as("bob");
    let project = ProjectRef::parse(w.gitlab.project_path());
    dev.edit_issue(
        &project,
        iid,
        &IssueEdit {
            description: Some("steps".into()),
            ..IssueEdit::default()
        },
    )
    .await
    .unwrap();
    w.spira.set_incident_updated_at(kept, before_b_listed);
    w.cycle_of(&mut b).await;
    for _round in 0..3 {
        w.advance(chrono::Duration::minutes(3));
        w.cycle().await;
        w.advance(chrono::Duration::minutes(3));
        w.cycle_of(&mut b).await;
    }
    let incidents = w.spira.incidents(1);
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    assert_eq!(incidents[0].incident_id, kept);
    assert_eq!(w.gitlab.issues().len(), 1, "{:#?}", w.gitlab.issues());
    w.assert_converged();
}

/// An incident another install has claimed (it is creating the issue) gets
/// no second issue; once the claim is older than its lifetime, a writer
/// that crashed is assumed and the incident is taken over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_claimed_by_another_install_gets_no_second_issue() {
    let mut w = World::new("").await;
    let x = w.spira.add_incident(1, "Export loses the last row", 1);
    let now = w.spira.clock().now();
    let claim = format!(
        "claim:0123456789abcdef@{}",
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    w.spira.edit_incident(x, |i| {
        i.custom.insert(1, serde_json::Value::String(claim.clone()));
    });
    let r = w.cycle_that_may_fail().await;
    assert_eq!(w.gitlab.issues().len(), 0, "{r:?}");
    assert!(
        format!("{r:?}").contains("0123456789abcdef"),
        "the other install is named: {r:?}"
    );
    w.advance(chrono::Duration::minutes(20));
    w.cycle().await;
    assert_eq!(w.gitlab.issues().len(), 1);
    w.assert_converged();
}
