//! The fakes' own controls (what the conformance suites cannot reach):
//! they must behave as the simulators do.

use chrono::Duration;
use labsync::sync::connector::{
    ErrorKind, IssueTracker, TestManagement, TmEdit, TrackerEdit, TrackerState,
};

use super::{MemoryIssueTracker, MemoryTestManagement};

const PROJECT: &str = MemoryIssueTracker::PROJECT;

fn titled(title: &str) -> TmEdit {
    TmEdit {
        title: Some(title.into()),
        ..TmEdit::default()
    }
}

#[tokio::test]
async fn one_conflict_costs_a_read_and_a_second_is_busy() {
    let tm = MemoryTestManagement::default();
    tm.setup(1).await.unwrap();
    let item = tm.create(1, &titled("a")).await.unwrap();
    let id = item.id.unwrap();
    tm.conflict_next_saves(1);
    let saved = tm.update(1, id, Some(item), &titled("b"), true).await;
    assert_eq!(saved.unwrap().title, "b");
    tm.conflict_next_saves(2);
    let e = tm
        .update(1, id, None, &titled("c"), true)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Busy);
    assert_eq!(tm.get(1, id).await.unwrap().title, "b");
}

#[tokio::test]
async fn a_person_commenting_does_not_move_the_item() {
    let tm = MemoryTestManagement::default();
    tm.setup(1).await.unwrap();
    let item = tm.create(1, &titled("a")).await.unwrap();
    tm.clock().advance(Duration::minutes(5));
    let comment = tm.comment_as_person(1, item.id.unwrap(), 2, "<p>hi</p>");
    assert!(comment.is_some());
    let read = tm.get(1, item.id.unwrap()).await.unwrap();
    assert_eq!(read.updated_at, item.updated_at);
}

#[tokio::test]
async fn writes_before_the_setup_are_refused() {
    let tm = MemoryTestManagement::default();
    let e = tm.create(1, &titled("a")).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Fatal);
}

/// gitlab-api.md §13 rule 4 (`ThrottledTouch`, `app/models/issue.rb`), as
/// the GitLab simulator's default.
#[tokio::test]
async fn a_label_edit_moves_updated_at_only_after_a_minute() {
    let tracker = MemoryIssueTracker::default();
    let iid = tracker.create_as_person("alice", "t", "b").unwrap();
    let created = tracker.get(PROJECT, iid).await.unwrap().updated_at;
    let label = |name: &str| TrackerEdit {
        add_labels: vec![name.into()],
        ..TrackerEdit::default()
    };
    tracker.clock().advance(Duration::seconds(30));
    let early = tracker.update(PROJECT, iid, &label("x")).await.unwrap();
    assert_eq!(early.updated_at, created);
    tracker.clock().advance(Duration::seconds(31));
    let late = tracker.update(PROJECT, iid, &label("y")).await.unwrap();
    assert_eq!(late.updated_at, tracker.clock().now());
}

/// gitlab-api.md §16 #5 (`filter_assignees_using_checks`).
#[tokio::test]
async fn an_assignee_who_may_not_be_assigned_is_dropped() {
    let tracker = MemoryIssueTracker::default();
    let iid = tracker.create_as_person("alice", "t", "b").unwrap();
    let bob = tracker.user_id("bob").await.unwrap().unwrap();
    let mallory = tracker.user_id("mallory").await.unwrap().unwrap();
    for (who, want) in [(bob, Some("bob")), (mallory, Some("bob"))] {
        let edit = TrackerEdit {
            assignees: Some(vec![who]),
            ..TrackerEdit::default()
        };
        let item = tracker.update(PROJECT, iid, &edit).await.unwrap();
        assert_eq!(item.assignee.as_deref(), want);
    }
}

/// gitlab-api.md §16 #3 (`app/services/issues/move_service.rb`).
#[tokio::test]
async fn a_moved_item_stays_closed_and_says_where_it_went() {
    let tracker = MemoryIssueTracker::default();
    let iid = tracker.create_as_person("alice", "t", "b").unwrap();
    let new_iid = tracker.move_item(iid, "other/place").unwrap();
    let original = tracker.get(PROJECT, iid).await.unwrap();
    assert_eq!(original.state, TrackerState::Closed);
    assert!(original.moved_to.is_some());
    let whereto = tracker.moved_where(PROJECT, iid).await.unwrap();
    assert_eq!(whereto, Some(format!("other/place#{new_iid}")));
    assert!(tracker.get("other/place", new_iid).await.is_ok());
}
