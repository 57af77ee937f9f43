//! Fields: an edit carried each way, conflicts settled by the policy and
//! recorded, one-way plugins writing nothing against their direction.

use labsync::sync::connector::{IssueTracker, TestManagement};

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
