//! Two labsync installs (separate databases) over the same servers: items
//! are never multiplied, whichever install runs when. Issue 13, item 1:
//! 100 items became 550 issues and 550 incidents in four rounds.

use labsync_testkit::world;

use labsync::gitlab::{IssueEdit, ProjectRef};
use labsync::sync::CycleReport;
use world::World;

/// Both installs are told to share the servers: the engine alone must
/// keep one counterpart per item.
const SHARE: &str = "share_projects = true";

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
    let mut w = World::new(SHARE).await;
    let mut b = w.second_install(SHARE);
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
    let mut w = World::new(SHARE).await;
    let mut b = w.second_install(SHARE);
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
    let mut w = World::new(SHARE).await;
    let mut b = w.second_install(SHARE);
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

/// Without `share_projects`, a second install finds the first one's label on
/// the GitLab project and stops with one error naming it; it writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_install_is_refused_and_names_the_first() {
    let mut w = World::new("").await;
    let mut b = w.second_install("");
    w.spira.add_incident(1, "Made in Spira", 1);
    w.gitlab.create_issue_as("alice", "Made in GitLab", "text");
    w.cycle().await;
    let first = w.store.install_id().unwrap();
    for _round in 0..3 {
        let r = w.cycle_of(&mut b).await;
        let fatal = r.projects[0].fatal.clone().unwrap_or_default();
        assert!(
            fatal.contains(&format!("another labsync install ({first}")),
            "{fatal}"
        );
        assert_eq!(r.totals().writes(), 0);
        w.advance(chrono::Duration::minutes(3));
        w.cycle().await;
    }
    assert_eq!(w.gitlab.issues().len(), 2);
    assert_eq!(w.spira.incidents(1).len(), 2);
    w.assert_converged();
}

/// A database bound to one server refuses another (here the same Spira
/// under another name, as a moved server would be) until `rebind` says the
/// change is intended; then it syncs on, without duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_refuses_other_servers_until_rebound() {
    let mut w = World::new("").await;
    w.spira.add_incident(1, "Made in Spira", 1);
    w.cycle().await;
    let moved = w.text.replace("http://127.0.0.1:", "http://localhost:");
    assert_ne!(moved, w.text);
    w.config =
        labsync::config::Config::from_str(std::path::Path::new("plugins.toml"), &moved).unwrap();
    let r = w.cycle_that_may_fail().await;
    let fatal = r.projects[0].fatal.clone().unwrap_or_default();
    assert!(
        fatal.contains("this database syncs") && fatal.contains("labsync rebind t"),
        "{fatal}"
    );
    assert_eq!(r.totals().writes(), 0);
    w.rebind().await;
    w.spira.add_incident(1, "After the move", 1);
    w.cycle().await;
    assert_eq!(w.gitlab.issues().len(), 2);
    w.assert_converged();
}

/// Through the binary, as issue 13 found it: two `labsync sync` runs with
/// the same configuration and separate `--db` files, round after round.
/// The second is refused (exit 2, one line naming the first install) and
/// nothing multiplies; `labsync rebind` lets a replacement database take
/// over from the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sync_runs_with_separate_databases_do_not_multiply_items() {
    let w = World::new("").await;
    for n in 0..5 {
        w.spira.add_incident(1, &format!("Incident {n}"), 1);
        w.gitlab
            .create_issue_as("alice", &format!("Issue {n}"), "from GitLab");
    }
    let config = world::config_path(&w);
    let a = w.dir.path().join("a.db");
    let b = w.dir.path().join("b.db");
    for round in 0..4 {
        let run = w.labsync_with(&config, &a, &["sync"]).await;
        assert_eq!(run.code, 0, "round {round}: {}", run.stderr);
        let run = w.labsync_with(&config, &b, &["sync"]).await;
        assert_eq!(run.code, 2, "round {round}: {}", run.stderr);
        let first = labsync::store::Store::open(&a)
            .unwrap()
            .install_id()
            .unwrap();
        let refusals: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("labsync: error:"))
            .collect();
        assert_eq!(refusals.len(), 1, "{}", run.stderr);
        assert!(
            refusals[0].contains(&format!("another labsync install ({first}")),
            "{}",
            run.stderr
        );
        w.advance(chrono::Duration::minutes(3));
    }
    assert_eq!(w.gitlab.issues().len(), 10);
    assert_eq!(w.spira.incidents(1).len(), 10);
    w.assert_converged();

    // Install A's database is lost; B takes over explicitly.
    std::fs::remove_file(&a).unwrap();
    let run = w.labsync_with(&config, &b, &["rebind", "t"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("this database is now install"),
        "{}",
        run.stdout
    );
    w.spira.add_incident(1, "After the takeover", 1);
    let run = w.labsync_with(&config, &b, &["sync"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.gitlab.issues().len(), 11);
    assert_eq!(w.spira.incidents(1).len(), 11);
    w.assert_converged();
}
