//! Fields: an edit carried each way, conflicts settled by the policy and
//! recorded, one-way plugins writing nothing against their direction.

use labsync::sync::connector::{IssueTracker, TestManagement, TrackerState};

use super::{Fakes, PROJECT, TM_PROJECT, assert_quiet};

#[tokio::test]
async fn a_title_edit_is_carried_each_way_once() {
    let mut f = Fakes::new("").await;
    let (id, iid) = f.pair("Typo in the cart").await;

    f.tm.edit_as_person(TM_PROJECT, id, |i| i.title = "Renamed by the tester".into());
    f.later(2);
    let r = f.cycle().await;
    assert_eq!(r.totals().updated_issues, 1, "{r:?}");
    let issue = f.tracker.get(PROJECT, iid).await.unwrap();
    assert_eq!(issue.title, "Renamed by the tester");

    f.later(2);
    f.tracker
        .edit_as_person(iid, |i| i.title = "Renamed by the developer".into());
    f.later(2);
    let r = f.cycle().await;
    assert_eq!(r.totals().updated_incidents, 1, "{r:?}");
    let incident = f.tm.get(TM_PROJECT, id).await.unwrap();
    assert_eq!(incident.title, "Renamed by the developer");

    f.later(5);
    let before = f.writes();
    let r = f.cycle().await;
    assert_quiet(&r, before, &f);
}

#[tokio::test]
async fn edits_on_both_sides_follow_the_conflict_policy_and_are_recorded() {
    for (policy, winner) in [
        ("test-management", "From the tester"),
        ("gitlab", "From the developer"),
    ] {
        let mut f = Fakes::new(&format!("conflict = \"{policy}\"")).await;
        let (id, iid) = f.pair("Original title").await;
        f.tm.edit_as_person(TM_PROJECT, id, |i| {
            i.title = "From the tester".into();
            // Not in conflict: carried whatever the policy.
            i.priority = Some(1);
        });
        f.tracker
            .edit_as_person(iid, |i| i.title = "From the developer".into());
        f.later(2);
        let r = f.cycle().await;
        assert_eq!(r.totals().conflicts, 1, "{policy}: {r:?}");
        let incident = f.tm.get(TM_PROJECT, id).await.unwrap();
        let issue = f.tracker.get(PROJECT, iid).await.unwrap();
        assert_eq!(
            (incident.title.as_str(), issue.title.as_str()),
            (winner, winner),
            "{policy}"
        );
        assert_eq!(
            issue.labels,
            vec!["priority::critical".to_string()],
            "{policy}"
        );
        assert_eq!(
            f.conflict_events(),
            1,
            "{policy}: the conflict is not in the audit log"
        );
        f.later(5);
        let before = f.writes();
        let r = f.cycle().await;
        assert_quiet(&r, before, &f);
    }
}

#[tokio::test]
async fn a_one_way_plugin_writes_nothing_against_its_direction() {
    let mut f = Fakes::new("direction = \"to-gitlab\"").await;
    let (id, iid) = f.pair("Only to the tracker").await;
    f.tracker
        .edit_as_person(iid, |i| i.title = "Edited in the tracker".into());
    f.tracker
        .create_as_person("alice", "Opened in the tracker", "Not for testers.");
    f.later(2);
    let tm_writes = f.tm.writes();
    let r = f.cycle().await;
    assert_eq!(
        f.tm.writes(),
        tm_writes,
        "the test-management side was written: {r:?}"
    );
    assert_eq!(
        f.tm.get(TM_PROJECT, id).await.unwrap().title,
        "Only to the tracker"
    );
    assert_eq!(f.tm.items(TM_PROJECT).len(), 1, "an incident was made");

    let mut f = Fakes::new("direction = \"to-test-management\"").await;
    f.tracker
        .create_as_person("alice", "Opened in the tracker", "For testers.");
    f.later(2);
    let r = f.cycle().await;
    assert_eq!(r.totals().created_incidents, 1, "{r:?}");
    let id = f.tm.items(TM_PROJECT)[0].id.unwrap();
    f.tm.edit_as_person(TM_PROJECT, id, |i| i.title = "Edited by the tester".into());
    f.later(2);
    let tracker_writes = f.tracker.writes();
    let r = f.cycle().await;
    assert_eq!(
        f.tracker.writes(),
        tracker_writes,
        "the tracker was written: {r:?}"
    );
    let issue = f.tracker.get(PROJECT, 1).await.unwrap();
    assert_eq!(issue.title, "Opened in the tracker");
}

/// A template whose workflow does not let the API change statuses keeps
/// the incident's status (spira-api.md §3.5): the engine learns it from
/// the read-back and must not try again every cycle, nor undo the close in
/// the tracker. (It tries once more when it reads the issue again within
/// the listing's overlap, or after anyone touches it.)
#[tokio::test]
async fn a_status_the_workflow_keeps_is_not_written_every_cycle() {
    let mut f = Fakes::new("").await;
    let (id, iid) = f.pair("Closed by the developer").await;
    f.tm.set_api_can_change_status(false);
    f.tracker
        .edit_as_person(iid, |i| i.state = TrackerState::Closed);
    f.later(2);
    let r = f.cycle().await;
    assert_eq!(r.totals().failed, 0, "{r:?}");
    let incident = f.tm.get(TM_PROJECT, id).await.unwrap();
    assert_eq!(incident.status, Some(1), "the fake let the status change");
    // The issue is read again within the listing's overlap.
    f.later(5);
    let r = f.cycle().await;
    assert!(r.totals().updated_incidents <= 1, "{r:?}");
    for _ in 0..2 {
        f.later(5);
        let before = f.writes();
        let r = f.cycle().await;
        assert_quiet(&r, before, &f);
    }
    assert_eq!(f.tm.get(TM_PROJECT, id).await.unwrap().status, Some(1));
    // A tester's later edit is carried, and is no reason to reopen.
    f.tm.edit_as_person(TM_PROJECT, id, |i| i.title = "Renamed later".into());
    f.later(5);
    let r = f.cycle().await;
    assert_eq!(r.totals().failed, 0, "{r:?}");
    let issue = f.tracker.get(PROJECT, iid).await.unwrap();
    assert_eq!(issue.title, "Renamed later");
    assert_eq!(issue.state, TrackerState::Closed, "the close was undone");
}

/// An owner whose tracker counterpart the tracker may not assign (no
/// member: GitLab drops the id silently and the issue keeps its assignee,
/// gitlab-api.md §16 #5) is no tracker edit: the owner stays in the
/// test-management system, now and in later cycles, and nothing is written
/// again for it.
#[tokio::test]
async fn an_owner_the_tracker_cannot_assign_is_not_reverted() {
    let users = r#"users = [ { spira = "erin", gitlab = "mallory" } ]"#;
    let mut f = Fakes::with("", users).await;
    let (id, iid) = f.pair("Owned by an outsider").await;
    let erin = 5;
    f.tm.edit_as_person(TM_PROJECT, id, |i| i.owner = Some(erin));
    f.later(2);
    let r = f.cycle().await;
    assert_eq!(r.totals().failed, 0, "{r:?}");
    assert_eq!(f.tracker.get(PROJECT, iid).await.unwrap().assignee, None);
    for _ in 0..2 {
        f.later(5);
        let before = f.writes();
        let r = f.cycle().await;
        assert_quiet(&r, before, &f);
    }
    // A developer's later edit is carried; the owner is still not undone.
    f.tracker
        .edit_as_person(iid, |i| i.title = "Retitled".into());
    f.later(2);
    f.cycle().await;
    let incident = f.tm.get(TM_PROJECT, id).await.unwrap();
    assert_eq!(incident.title, "Retitled");
    assert_eq!(incident.owner, Some(erin), "the owner was reverted");
}
