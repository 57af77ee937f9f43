//! What goes wrong: an item moved away, a busy item, a side down, a
//! create whose answer was lost.

use labsync::sync::connector::{IssueTracker, TestManagement, TrackerState};
use labsync::sync::storage::Storage;

use super::{Fakes, PROJECT, TM_PROJECT, assert_quiet};

#[tokio::test]
async fn an_issue_moved_away_is_not_recreated_and_closes_nothing() {
    let mut f = Fakes::new("").await;
    let (id, iid) = f.pair("Belongs elsewhere").await;
    let status = f.tm.get(TM_PROJECT, id).await.unwrap().status;
    f.tracker.move_item(iid, "demo/archive").unwrap();
    f.later(2);
    let r = f.cycle().await;
    assert_eq!(r.totals().orphaned, 1, "{r:?}");
    assert_eq!(r.totals().writes(), 0, "{r:?}");
    let link = f.store.link_by_tm_item("fakes", TM_PROJECT, id).unwrap();
    let reason = link
        .and_then(|l| l.orphaned)
        .expect("the link is not orphaned");
    assert!(reason.contains("moved to demo/archive#1"), "{reason}");
    assert_eq!(
        f.tm.get(TM_PROJECT, id).await.unwrap().status,
        status,
        "the move closed the incident"
    );
    f.tm.edit_as_person(TM_PROJECT, id, |i| i.title = "Edited after the move".into());
    f.later(5);
    let before = f.writes();
    let r = f.cycle().await;
    assert_quiet(&r, before, &f);
    assert_eq!(f.issues_of(id).await.len(), 1, "an issue was made again");
    let original = f.tracker.get(PROJECT, iid).await.unwrap();
    assert_eq!(
        (original.title.as_str(), original.state),
        ("Belongs elsewhere", TrackerState::Closed)
    );
}

#[tokio::test]
async fn a_busy_item_is_retried_next_cycle_not_lost() {
    let mut f = Fakes::new("").await;
    let id = f.incident("Saved while claimed", "<p>x</p>").await;
    f.later(1);
    // Someone saves the incident just as it is claimed for its new issue.
    f.tm.conflict_next_saves(1);
    let r = f.cycle().await;
    assert_eq!(r.totals().created_issues, 0, "{r:?}");
    assert!(f.issue_of(id).await.is_none());
    f.later(2);
    let r = f.cycle().await;
    assert_eq!(
        r.totals().created_issues,
        1,
        "the busy incident was dropped: {r:?}"
    );
    assert!(f.issue_of(id).await.is_some());
}

#[tokio::test]
async fn a_side_that_is_down_stops_the_project_with_one_error_and_keeps_watermarks() {
    let mut f = Fakes::new("").await;
    let (id, iid) = f.pair("Waits for the tracker").await;
    f.tm.edit_as_person(TM_PROJECT, id, |i| {
        i.title = "Renamed while it was down".into()
    });
    f.later(2);
    let (marks, before) = (f.watermarks(), f.writes());
    f.tracker.set_down(true);
    let r = f.cycle().await;
    let project = &r.projects[0];
    assert_eq!(project.unreachable, Some("Memory tracker"), "{r:?}");
    assert!(
        project
            .fatal
            .as_deref()
            .is_some_and(|m| m.contains("Memory tracker")),
        "{r:?}"
    );
    assert!(
        project.failures.is_empty(),
        "items failed one by one: {r:?}"
    );
    assert_eq!(r.totals().failed, 0, "{r:?}");
    assert_eq!(
        f.watermarks(),
        marks,
        "a watermark moved past what was not done"
    );
    assert_eq!(f.writes(), before);
    f.tracker.set_down(false);
    f.later(2);
    let r = f.cycle().await;
    assert_eq!(r.totals().updated_issues, 1, "{r:?}");
    let issue = f.tracker.get(PROJECT, iid).await.unwrap();
    assert_eq!(issue.title, "Renamed while it was down");
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_found_by_its_marker() {
    let mut f = Fakes::new("").await;
    let id = f.incident("Answer lost", "<p>x</p>").await;
    f.later(1);
    f.tracker.lose_next_create_answer();
    let r = f.cycle().await;
    assert_eq!(r.totals().failed, 1, "{r:?}");
    assert_eq!(
        f.issues_of(id).await.len(),
        1,
        "issues made for the incident"
    );
    f.later(3);
    let r = f.cycle().await;
    assert_eq!(r.totals().failed, 0, "{r:?}");
    assert_eq!(r.totals().created_issues, 0, "made again: {r:?}");
    assert_eq!(f.issues_of(id).await.len(), 1, "a duplicate issue");
    assert_eq!(
        f.tm.items(TM_PROJECT).len(),
        1,
        "an incident was made for it"
    );
    let incident = f.tm.get(TM_PROJECT, id).await.unwrap();
    let issue = f.issue_of(id).await.unwrap();
    assert_eq!(
        incident.marker.as_deref(),
        Some(format!("{PROJECT}#{}", issue.iid).as_str()),
        "the incident is not linked to the issue found"
    );
}
