//! The sync engine end to end, through the library, against both simulators.

use labsync::sync::plan::PlannedWrite;
use labsync_testkit::world;

use labsync::gitlab::{IssueEdit, ProjectRef, StateEvent};
use world::World;

#[tokio::test]
async fn an_incident_becomes_an_issue_with_every_mapped_field() {
    let mut w = World::new("").await;
    let bob = w.spira_user("bob");
    let id = w.spira.add_incident(1, "Checkout button does nothing", 1);
    w.spira.edit_incident(id, |i| {
        i.description = "<p>Click <b>Pay</b>: nothing happens.</p>".into();
        i.priority_id = Some(2);
        i.owner_id = Some(bob);
    });
    let r = w.cycle().await;
    assert_eq!(r.totals().created_issues, 1, "{r:?}");
    let issue = w.issue_titled("Checkout button does nothing");
    assert_eq!(issue["state"], "opened");
    assert!(
        issue["description"]
            .as_str()
            .unwrap()
            .contains("Click **Pay**: nothing happens."),
        "{issue}"
    );
    assert!(
        issue["description"]
            .as_str()
            .unwrap()
            .contains(&format!("labsync:incident=1/{id}"))
    );
    assert_eq!(issue["labels"], serde_json::json!(["priority::high"]));
    assert_eq!(issue["assignees"][0]["username"], "bob");
    // The incident names its issue.
    let incident = w.spira.incident(id).unwrap();
    assert_eq!(
        incident.custom.get(&1).and_then(|v| v.as_str()),
        Some(format!("demo/webshop#{}", issue["iid"]).as_str())
    );
}

#[tokio::test]
async fn an_issue_becomes_an_incident_and_a_closed_issue_gets_the_primary_closed_status() {
    let mut w = World::new("").await;
    let iid = w.gitlab.create_issue_as(
        "alice",
        "Search ignores accents",
        "Searching *café* finds nothing",
    );
    w.gitlab
        .set_labels_as("alice", iid, &["priority::critical", "frontend"]);
    w.gitlab.edit_issue_as("alice", iid, None, Some(false));
    let r = w.cycle().await;
    assert_eq!(r.totals().created_incidents, 1, "{r:?}");
    let incident = w.incident_named("Search ignores accents");
    assert_eq!(
        incident.incident_status_id, 5,
        "Closed is the primary status of closed"
    );
    assert_eq!(incident.priority_id, Some(1));
    assert!(
        incident.description.contains("<em>café</em>"),
        "{}",
        incident.description
    );
    // The issue got the footer linking back, once.
    let issue = w.gitlab.issue(iid).unwrap();
    assert_eq!(
        issue["description"]
            .as_str()
            .unwrap()
            .matches("labsync:incident=")
            .count(),
        1
    );
    assert_eq!(
        issue["labels"],
        serde_json::json!(["frontend", "priority::critical"]),
        "other labels stay"
    );
}

#[tokio::test]
async fn a_quiet_cycle_writes_nothing_and_reads_one_list_per_side() {
    let mut w = World::new("").await;
    w.spira.add_incident(1, "Logo blurry", 1);
    w.gitlab.create_issue_as("alice", "Footer overlaps", "x");
    w.cycle().await;
    // Let both clocks pass the overlap window, then settle once more.
    w.advance(chrono::Duration::minutes(10));
    w.cycle().await;
    w.advance(chrono::Duration::minutes(10));
    w.gitlab.reset_counts();
    w.spira.reset_counts();
    let r = w.cycle().await;
    assert_eq!(r.totals().writes(), 0, "{r:?}");
    assert_eq!(w.gitlab.request_count("POST"), 0);
    assert_eq!(w.gitlab.request_count("PUT"), 0);
    assert_eq!(w.spira.request_count("PUT"), 0);
    assert_eq!(
        w.gitlab.request_count("GET /api/v4/projects/{id}/issues"),
        1,
        "one issue listing"
    );
    assert_eq!(
        w.gitlab.request_count("/notes"),
        0,
        "no notes read for issues that did not change"
    );
    assert_eq!(
        w.spira.request_count("incidents/search"),
        1,
        "one incident search"
    );
    // The project's setup is not even read when nothing changed.
    assert_eq!(
        w.gitlab.request_count(""),
        1,
        "nothing but the listing on the GitLab side"
    );
    assert_eq!(
        w.spira.request_count(""),
        1,
        "nothing but the search on the Spira side"
    );
}

#[tokio::test]
async fn edits_of_each_field_propagate_both_ways() {
    let mut w = World::new("").await;
    let id = w.spira.add_incident(1, "Cart total wrong", 1);
    w.spira.edit_incident(id, |i| i.priority_id = Some(2));
    w.cycle().await;
    let iid = w.issue_titled("Cart total wrong")["iid"].as_u64().unwrap();
    assert_eq!(
        w.gitlab.issue(iid).unwrap()["labels"],
        serde_json::json!(["priority::high"])
    );

    // Spira → GitLab: title, priority, owner, status.
    let carol = w.spira_user("carol");
    w.spira.edit_incident(id, |i| {
        i.name = "Cart total wrong with coupons".into();
        i.priority_id = Some(3);
        i.owner_id = Some(carol);
        i.incident_status_id = 4;
    });
    let r = w.cycle().await;
    assert_eq!(r.totals().updated_issues, 1, "{r:?}");
    let issue = w.gitlab.issue(iid).unwrap();
    assert_eq!(issue["title"], "Cart total wrong with coupons");
    assert_eq!(
        issue["labels"],
        serde_json::json!(["priority::medium"]),
        "old priority label removed on the free tier too"
    );
    assert_eq!(issue["assignees"][0]["username"], "carol");
    assert_eq!(issue["state"], "closed", "Resolved maps to closed");

    // GitLab → Spira: title, description, reopen, assignee.
    let alice = w.gitlab_as("alice");
    let edit = IssueEdit {
        title: Some("Cart total wrong with two coupons".into()),
        description: Some("Apply **two** coupons".into()),
        state_event: Some(StateEvent::Reopen),
        assignee_ids: Some(vec![w.gitlab_user_id("bob")]),
        ..IssueEdit::default()
    };
    alice
        .edit_issue(&ProjectRef::parse("demo/webshop"), iid, &edit)
        .await
        .unwrap();
    let r = w.cycle().await;
    assert_eq!(r.totals().updated_incidents, 1, "{r:?}");
    let incident = w.spira.incident(id).unwrap();
    assert_eq!(incident.name, "Cart total wrong with two coupons");
    assert!(
        incident.description.contains("<strong>two</strong>"),
        "{}",
        incident.description
    );
    assert_eq!(
        incident.incident_status_id, 1,
        "reopened: New is the primary status of opened"
    );
    assert_eq!(incident.owner_id, Some(w.spira_user("bob")));
    // The footer came back with the new description, still once.
    let issue = w.gitlab.issue(iid).unwrap();
    assert_eq!(
        issue["description"]
            .as_str()
            .unwrap()
            .matches("labsync:incident=")
            .count(),
        1,
        "{issue}"
    );
}

#[tokio::test]
async fn a_state_change_already_satisfied_changes_nothing() {
    let mut w = World::new("").await;
    let id = w.spira.add_incident(1, "Typo on about page", 1);
    w.cycle().await;
    let iid = w.issue_titled("Typo on about page")["iid"]
        .as_u64()
        .unwrap();
    // Resolved in Spira → closed in GitLab.
    w.spira.edit_incident(id, |i| i.incident_status_id = 4);
    w.cycle().await;
    assert_eq!(w.gitlab.issue(iid).unwrap()["state"], "closed");
    // GitLab reopens and closes again: Resolved already means closed.
    w.gitlab.edit_issue_as("bob", iid, None, Some(true));
    w.gitlab.edit_issue_as("bob", iid, None, Some(false));
    let r = w.cycle().await;
    assert_eq!(
        w.spira.incident(id).unwrap().incident_status_id,
        4,
        "stays Resolved: {r:?}"
    );
}

#[tokio::test]
async fn comments_cross_both_ways_exactly_once() {
    let mut w = World::new("").await;
    let id = w.spira.add_incident(1, "Images load slowly", 1);
    w.cycle().await;
    let iid = w.issue_titled("Images load slowly")["iid"]
        .as_u64()
        .unwrap();
    let alice = w.spira_user("alice");
    w.spira.add_comment(id, alice, "<p>Seen on 4G only</p>");
    w.gitlab.add_note_as("bob", iid, "Probably the CDN. /close");
    w.gitlab.add_note_as("bob", iid, "/close");
    for _ in 0..3 {
        w.cycle().await;
        w.advance(chrono::Duration::minutes(5));
    }
    let notes: Vec<String> = w
        .gitlab
        .notes(iid)
        .iter()
        .filter(|n| n["system"] == false)
        .map(|n| n["body"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.contains("Seen on 4G only"))
            .count(),
        1,
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("**Alice Tester** commented in Spira")),
        "{notes:#?}"
    );
    let comments = w.spira.comments(id);
    assert_eq!(
        comments
            .iter()
            .filter(|c| c.text.contains("Probably the CDN"))
            .count(),
        1,
        "{comments:#?}"
    );
    assert_eq!(
        comments
            .iter()
            .filter(|c| c.text.contains("Seen on 4G only"))
            .count(),
        1,
        "never copied back"
    );
    // A copied comment that says /close does not close the issue.
    assert_eq!(w.gitlab.issue(iid).unwrap()["state"], "opened");
}

#[tokio::test]
async fn conflicting_edits_follow_the_policy_and_are_audited() {
    for (policy, expected) in [("test-management", "From Spira"), ("gitlab", "From GitLab")] {
        let mut w = World::new(&format!("conflict = \"{policy}\"")).await;
        let id = w.spira.add_incident(1, "Original", 1);
        w.cycle().await;
        let iid = w.issue_titled("Original")["iid"].as_u64().unwrap();
        w.spira.edit_incident(id, |i| {
            i.name = "From Spira".into();
            i.priority_id = Some(4);
        });
        w.gitlab
            .edit_issue_as("bob", iid, Some("From GitLab"), None);
        let r = w.cycle().await;
        assert_eq!(r.totals().conflicts, 1, "{policy}: {r:?}");
        assert_eq!(w.spira.incident(id).unwrap().name, expected, "{policy}");
        assert_eq!(w.gitlab.issue(iid).unwrap()["title"], expected, "{policy}");
        // The non-conflicting edit (priority) survives either way.
        assert_eq!(
            w.gitlab.issue(iid).unwrap()["labels"],
            serde_json::json!(["priority::low"]),
            "{policy}"
        );
        assert_eq!(
            w.conflict_events(),
            1,
            "{policy}: the conflict is in the audit log"
        );
    }
}

#[tokio::test]
async fn a_lost_answer_to_a_create_leaves_no_duplicate() {
    let mut w = World::new("").await;
    w.spira.add_incident(1, "Crash between create and link", 1);
    // GitLab creates the issue but the answer never arrives.
    w.gitlab.faults().set_route(
        "POST /api/v4/projects/{id}/issues",
        labsync_sim::faults::FaultRule {
            drop_rate: 1.0,
            ..Default::default()
        },
    );
    let r = w.cycle().await;
    assert_eq!(r.totals().failed, 1, "{r:?}");
    w.gitlab.faults().clear();
    w.advance(chrono::Duration::minutes(3));
    let r = w.cycle().await;
    assert_eq!(r.totals().failed, 0, "{r:?}");
    let matching = w
        .gitlab
        .issues()
        .into_iter()
        .filter(|i| i["title"] == "Crash between create and link")
        .count();
    assert_eq!(
        matching, 1,
        "the interrupted create must be found by its marker, not repeated"
    );
    assert_eq!(
        w.spira.incidents(1).len(),
        1,
        "and no incident was made for it either"
    );
}

#[tokio::test]
async fn a_lost_database_relinks_by_markers_without_duplicates() {
    let mut w = World::new("").await;
    w.spira.add_incident(1, "Made in Spira", 1);
    w.gitlab.create_issue_as("alice", "Made in GitLab", "text");
    w.cycle().await;
    w.forget_database().await;
    w.cycle().await;
    w.cycle().await;
    assert_eq!(w.gitlab.issues().len(), 2, "{:#?}", w.gitlab.issues());
    assert_eq!(w.spira.incidents(1).len(), 2);
}

#[tokio::test]
async fn one_way_sync_only_writes_one_side() {
    let mut w = World::new("direction = \"to-gitlab\"").await;
    w.spira.add_incident(1, "Only to GitLab", 1);
    w.gitlab.create_issue_as("alice", "Stays in GitLab", "x");
    w.cycle().await;
    assert!(
        w.gitlab
            .issues()
            .iter()
            .any(|i| i["title"] == "Only to GitLab")
    );
    assert!(
        w.spira
            .incidents(1)
            .iter()
            .all(|i| i.name != "Stays in GitLab")
    );
}

#[tokio::test]
async fn a_crash_between_create_and_link_leaves_no_duplicate() {
    let mut w = World::new("").await;
    let id = w.spira.add_incident(1, "Crash right after create", 1);
    w.cycle().await;
    assert_eq!(w.gitlab.issues().len(), 1);
    // Put things back as they were when the process died: the issue exists,
    // its create intent is pending, the link and the incident's mark are not there.
    let conn = rusqlite::Connection::open(w.store.path()).unwrap();
    conn.execute("DELETE FROM links", []).unwrap();
    conn.execute(
        "INSERT INTO intents (plugin, tm_project, kind, source_id, marker, created_at)
         VALUES ('t', 1, 'issue', ?1, ?2, '2026-01-01T00:00:00Z')",
        rusqlite::params![id.to_string(), format!("<!-- labsync:incident=1/{id} -->")],
    )
    .unwrap();
    drop(conn);
    w.spira.edit_incident(id, |i| i.custom.clear());
    w.cycle().await;
    w.advance(chrono::Duration::minutes(5));
    w.cycle().await;
    assert_eq!(
        w.gitlab.issues().len(),
        1,
        "the pending intent must find the issue by its marker"
    );
    let conn = rusqlite::Connection::open(w.store.path()).unwrap();
    let intents: i64 = conn
        .query_row("SELECT count(*) FROM intents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(intents, 0, "the intent is settled");
    let links: i64 = conn
        .query_row("SELECT count(*) FROM links", [], |r| r.get(0))
        .unwrap();
    assert_eq!(links, 1);
}

/// A footer names its incident, whichever database wrote it: an issue that
/// carries one is never the origin of a new incident (that is how two
/// installs multiplied items, issue 13). A footer copied by hand is reported
/// and left; once the copy's footer is removed, the copy gets its own.
#[tokio::test]
async fn a_footer_copied_into_another_issue_does_not_hijack_the_link() {
    let mut w = World::new("").await;
    w.spira.add_incident(1, "Original defect", 1);
    w.cycle().await;
    let original = w.issue_titled("Original defect");
    // A developer copies the whole description, footer included, into a new issue.
    let copy = w.gitlab.create_issue_as(
        "bob",
        "Follow-up work",
        original["description"].as_str().unwrap(),
    );
    let r = w.cycle().await;
    assert_eq!(r.totals().failed, 0, "{r:?}");
    assert_eq!(
        w.spira.incidents(1).len(),
        1,
        "no incident from a copied footer"
    );
    let said: Vec<&String> = r.projects.iter().flat_map(|p| &p.warnings).collect();
    assert!(
        said.iter()
            .any(|l| l.contains(&format!("#{copy} carries the footer of IN:1"))),
        "{said:?}"
    );
    // The original pair is untouched.
    let reference = w.spira.incident(1).unwrap().custom[&1].clone();
    assert_eq!(
        reference,
        format!("{}#{}", w.gitlab.project_path(), original["iid"])
    );

    // The developer removes the copied footer: the copy is a new item.
    let dev = w.gitlab_as("bob");
    let project = labsync::gitlab::ProjectRef::parse(w.gitlab.project_path());
    let edit = labsync::gitlab::IssueEdit {
        description: Some("Follow-up of the original".into()),
        ..Default::default()
    };
    dev.edit_issue(&project, copy, &edit).await.unwrap();
    w.advance(chrono::Duration::minutes(5));
    let r = w.cycle().await;
    assert_eq!(r.totals().failed, 0, "{r:?}");
    let follow_up = w.incident_named("Follow-up work");
    assert_ne!(follow_up.incident_id, 1);
    let issue = w.issue_titled("Follow-up work");
    let description = issue["description"].as_str().unwrap();
    assert!(
        description.contains(&format!("labsync:incident=1/{}", follow_up.incident_id)),
        "{description}"
    );
}

#[tokio::test]
async fn comments_that_do_not_touch_the_incident_are_found_by_the_sweep() {
    let spira = labsync_sim::spira::SpiraSimConfig {
        seed: labsync_sim::Seed::Empty,
        comment_bumps_last_update: false,
        ..Default::default()
    };
    let mut w = World::with("comment_sweep = \"5m\"", spira).await;
    let id = w.spira.add_incident(1, "Slow search", 1);
    w.cycle().await;
    let iid = w.issue_titled("Slow search")["iid"].as_u64().unwrap();
    w.advance(chrono::Duration::minutes(10));
    w.cycle().await;
    w.spira
        .add_comment(id, w.spira_user("alice"), "<p>Takes 9 s on staging</p>");
    let copied = |w: &World| {
        w.gitlab
            .notes(iid)
            .iter()
            .filter(|n| n["body"].as_str().unwrap_or("").contains("Takes 9 s"))
            .count()
    };
    w.cycle().await;
    assert_eq!(
        copied(&w),
        0,
        "the incident did not change, and its comments were read minutes ago"
    );
    w.advance(chrono::Duration::minutes(6));
    w.cycle().await;
    assert_eq!(copied(&w), 1, "the sweep found the comment");
    w.advance(chrono::Duration::minutes(6));
    w.cycle().await;
    assert_eq!(copied(&w), 1, "and copied it once");
}

#[tokio::test]
async fn a_plan_shows_the_writes_and_makes_none() {
    let mut w = World::new("").await;
    w.spira.add_incident(1, "Planned only", 1);
    w.gitlab.create_issue_as("alice", "Also planned", "x");
    w.gitlab.reset_counts();
    w.spira.reset_counts();
    let r = w.plan().await;
    let planned: Vec<&PlannedWrite> = r.projects.iter().flat_map(|p| p.planned.iter()).collect();
    let create_issue = PlannedWrite::CreateIssue {
        incident: 1,
        title: "Planned only".into(),
    };
    let create_incident = PlannedWrite::CreateIncident {
        issue: 1,
        title: "Also planned".into(),
    };
    assert!(planned.contains(&&create_issue), "{planned:#?}");
    assert!(planned.contains(&&create_incident), "{planned:#?}");
    // Shown as `labsync plan` prints them.
    assert_eq!(
        create_issue.to_string(),
        "create issue for incident IN:1 'Planned only'"
    );
    assert_eq!(
        create_incident.to_string(),
        "create incident for issue #1 'Also planned'"
    );
    assert_eq!(
        w.gitlab.request_count("POST") + w.gitlab.request_count("PUT"),
        0
    );
    assert_eq!(w.spira.request_count("PUT"), 0);
    assert_eq!(w.gitlab.issues().len(), 1);
    assert_eq!(w.spira.incidents(1).len(), 1);
    let conn = rusqlite::Connection::open(w.store.path()).unwrap();
    let touched: i64 = conn.query_row("SELECT (SELECT count(*) FROM links) + (SELECT count(*) FROM intents) + (SELECT count(*) FROM watermarks) + (SELECT count(*) FROM runs)", [], |r| r.get(0)).unwrap();
    assert_eq!(touched, 0, "a plan records nothing");
}

/// A new issue in a milestone Spira has no release for: the sync creates
/// the release first, then the incident in it. The plan shows both, in that
/// order (it used to show the incident only).
#[tokio::test]
async fn a_plan_shows_the_release_a_new_issue_needs_before_its_incident() {
    let mut w = World::new("").await;
    let iid = w.gitlab.create_issue_as("alice", "Needs a release", "x");
    w.set_milestone_as("alice", iid, "Sprint 42").await;
    let releases = w.spira.releases(1).len();
    let r = w.plan().await;
    assert_eq!(
        r.projects[0].planned,
        vec![
            PlannedWrite::CreateRelease {
                milestone: "Sprint 42".into()
            },
            PlannedWrite::CreateIncident {
                issue: iid,
                title: "Needs a release".into()
            },
        ]
    );
    assert_eq!(
        w.spira.releases(1).len(),
        releases,
        "a plan creates nothing"
    );
    w.cycle().await;
    assert_eq!(
        w.spira.releases(1).len(),
        releases + 1,
        "the sync creates what was planned"
    );
}

/// A plan before the first sync records nothing a sync would: no install
/// label on the GitLab project, no binding, no auto-mapped user. The sync
/// that follows does all three.
#[tokio::test]
async fn a_first_plan_binds_nothing_and_maps_no_user() {
    let mut w = World::new("auto_map_users = true").await;
    w.spira.add_incident(1, "Planned only", 1);
    let project = ProjectRef::parse(w.gitlab.project_path());
    let install_label = |labels: &[labsync::gitlab::Label]| {
        labels
            .iter()
            .any(|l| l.name == labsync::sync::identity::INSTALL_LABEL)
    };
    let recorded = |w: &World| -> (i64, i64) {
        let conn = rusqlite::Connection::open(w.store.path()).unwrap();
        let count = |sql: &str| conn.query_row(sql, [], |r| r.get(0)).unwrap();
        (
            count("SELECT count(*) FROM bindings"),
            count("SELECT count(*) FROM user_mappings WHERE source = 'auto'"),
        )
    };
    let r = w.plan().await;
    assert!(r.projects[0].fatal.is_none(), "{r:?}");
    assert!(!r.projects[0].planned.is_empty(), "{r:?}");
    let labels = w.gitlab_as("alice").list_labels(&project).await.unwrap();
    assert!(!install_label(&labels), "{labels:#?}");
    assert_eq!(recorded(&w), (0, 0), "a plan records nothing");
    w.cycle().await;
    let labels = w.gitlab_as("alice").list_labels(&project).await.unwrap();
    assert!(install_label(&labels), "{labels:#?}");
    let (bound, auto_users) = recorded(&w);
    assert_eq!(bound, 1);
    assert!(auto_users > 0, "the sync maps users");
}

#[tokio::test]
async fn a_deleted_issue_orphans_its_link_and_deletes_nothing() {
    let mut w = World::new("").await;
    let id = w.spira.add_incident(1, "Will lose its issue", 1);
    w.cycle().await;
    let iid = w.issue_titled("Will lose its issue")["iid"]
        .as_u64()
        .unwrap();
    // An owner deletes it through the API (doc/api/issues.md "Delete an issue").
    w.gitlab.set_member("carol", labsync_sim::gitlab::OWNER);
    let owner = w.gitlab.add_token("carol", &["api"], None);
    let deleted = reqwest::Client::new()
        .delete(format!("{}/api/v4/projects/1/issues/{iid}", w.gitlab.url()))
        .header("PRIVATE-TOKEN", owner)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    w.spira
        .edit_incident(id, |i| i.name = "Edited after the issue went away".into());
    let r = w.cycle().await;
    assert_eq!(r.totals().orphaned, 1, "{r:?}");
    assert_eq!(r.totals().failed, 0);
    assert!(w.spira.incident(id).is_some(), "the incident stays");
    assert_eq!(
        w.gitlab.issues().len(),
        0,
        "no new issue is made for an orphaned link"
    );
    assert_eq!(w.spira.incidents(1).len(), 1, "nor a new incident");
    let r = w.cycle().await;
    assert_eq!(r.totals().writes(), 0, "and later cycles stay quiet: {r:?}");
    assert!(w.gitlab.issues().is_empty());
    let conn = rusqlite::Connection::open(w.store.path()).unwrap();
    let reason: Option<String> = conn
        .query_row("SELECT orphaned FROM links", [], |r| r.get(0))
        .unwrap();
    assert!(reason.unwrap_or_default().contains("deleted or moved"));
}

#[tokio::test]
async fn progress_counts_the_items_of_a_running_cycle() {
    let mut w = World::new("").await;
    w.spira.add_incident(1, "Counted once", 1);
    w.gitlab.create_issue_as("alice", "Counted too", "x");
    let progress = std::sync::Arc::new(labsync::sync::Progress::default());
    let opts = labsync::connectors::CycleOptions {
        trigger: "sync-now",
        mode: labsync::connectors::CycleMode::Sync,
        http: world::settings(),
        stop: None,
        progress: Some(progress.clone()),
    };
    labsync::connectors::run_plugin(&w.config.plugins[0], &mut w.store, &opts).await;
    assert_eq!(
        progress.describe(),
        "1 incidents, 1 issues looked at, 0 failed"
    );
}
