//! The sync state in SQLite: one transaction per item, bases that cannot be
//! silently corrupted, watermarks that never go back, intents and the error queue.

use chrono::{Duration, TimeZone, Utc};
use labsync::config::Config;
use labsync::model::{CreatedBy, Side, Ticket};
use labsync::store::Store;
use labsync::store::links::{CommentLink, Event, ItemCommit, Link};
use labsync::store::progress::PARK_AFTER;

const CONFIG: &str = r#"
[[plugins]]
name = "p"
[plugins.spira]
base_url = "https://spira.test"
login = "l"
api_key = "k"
[plugins.gitlab]
token = "t"
[[plugins.projects]]
spira_project = 1
gitlab_project = "g/p"
"#;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("labsync.db")).unwrap();
    let config = Config::from_str(std::path::Path::new("plugins.toml"), CONFIG).unwrap();
    store.apply_config(&config).unwrap();
    (dir, store)
}

fn link(incident: i64, issue: i64) -> Link {
    Link {
        id: 0,
        plugin: "p".into(),
        tm_project: 1,
        tm_item: incident,
        tracker_project_id: 10,
        tracker_item_id: issue,
        tracker_iid: issue - 1000,
        tracker_url: "https://gitlab.test/g/p/-/issues/1".into(),
        created_by: CreatedBy::Side(Side::TestManagement),
        base: Ticket {
            title: "Checkout fails".into(),
            status: Some(1),
            ..Ticket::default()
        },
        last_tracker_comment: 0,
        last_tm_comment: 0,
        orphaned: None,
        comments_checked_at: None,
        tracker_kept: labsync::model::TrackerKept::default(),
    }
}

fn commit(l: Link) -> ItemCommit {
    ItemCommit {
        run_id: None,
        link: l,
        comments: vec![CommentLink {
            tm_comment: 5,
            tracker_comment: 50,
            origin: Side::TestManagement,
        }],
        events: vec![Event {
            action: "create".into(),
            field: None,
            direction: Some("to-gitlab"),
            before: None,
            after: None,
            conflict: false,
            decision: None,
        }],
        intent_id: None,
    }
}

#[test]
fn an_item_is_committed_whole_and_read_back() {
    let (_d, mut s) = store();
    let id = s.commit_item(&commit(link(42, 1001))).unwrap();
    let got = s.link_by_tm_item("p", 1, 42).unwrap().unwrap();
    assert_eq!(got.id, id);
    assert_eq!(got.base.title, "Checkout fails");
    assert_eq!(
        s.link_by_tracker_item("p", 10, 1001)
            .unwrap()
            .unwrap()
            .tm_item,
        42
    );
    assert_eq!(s.comment_links(id).unwrap().len(), 1);

    // Updating the base keeps one link.
    let mut updated = got.clone();
    updated.base.title = "Checkout fails on Safari".into();
    updated.last_tracker_comment = 77;
    s.commit_item(&ItemCommit {
        comments: vec![],
        ..commit(updated)
    })
    .unwrap();
    let links = s.links("p", 1).unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].base.title, "Checkout fails on Safari");
    assert_eq!(links[0].last_tracker_comment, 77);
}

#[test]
fn a_failing_item_commit_writes_nothing() {
    let (_d, mut s) = store();
    s.commit_item(&commit(link(42, 1001))).unwrap();
    // A second link for the same issue violates the one-issue-one-incident rule.
    let mut dup = commit(link(43, 1001));
    dup.comments = vec![CommentLink {
        tm_comment: 6,
        tracker_comment: 60,
        origin: Side::IssueTracker,
    }];
    assert!(s.commit_item(&dup).is_err());
    assert!(s.link_by_tm_item("p", 1, 43).unwrap().is_none());
    let first = s.link_by_tm_item("p", 1, 42).unwrap().unwrap();
    assert_eq!(
        s.comment_links(first.id).unwrap().len(),
        1,
        "the failed item's comment link must not be stored"
    );
}

#[test]
fn a_base_edited_by_hand_is_reported_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("labsync.db");
    {
        let mut s = Store::open(&path).unwrap();
        s.apply_config(&Config::from_str(std::path::Path::new("plugins.toml"), CONFIG).unwrap())
            .unwrap();
        s.commit_item(&commit(link(42, 1001))).unwrap();
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE links SET base = replace(base, 'Checkout', 'Payment')",
        [],
    )
    .unwrap();
    drop(conn);
    let s = Store::open(&path).unwrap();
    let err = s.link_by_tm_item("p", 1, 42).unwrap_err().to_string();
    assert!(
        err.contains("link 1 (incident 42 ↔ issue #1)") && err.contains("does not match its hash"),
        "{err}"
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE links SET base = '{not json'", [])
        .unwrap();
    drop(conn);
    let err = s.link_by_tm_item("p", 1, 42).unwrap_err().to_string();
    assert!(err.contains("base record"), "{err}");
}

#[test]
fn watermarks_never_move_back() {
    let (_d, mut s) = store();
    let t1 = Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap();
    assert_eq!(s.watermark("p", 1, Side::IssueTracker).unwrap(), None);
    s.advance_watermark("p", 1, Side::IssueTracker, t1).unwrap();
    s.advance_watermark("p", 1, Side::IssueTracker, t1 - Duration::hours(1))
        .unwrap();
    assert_eq!(s.watermark("p", 1, Side::IssueTracker).unwrap(), Some(t1));
    assert_eq!(
        s.watermark("p", 1, Side::TestManagement).unwrap(),
        None,
        "sides are separate"
    );
}

#[test]
fn an_intent_is_recorded_once_and_cleared_by_its_item() {
    let (_d, mut s) = store();
    let a = s
        .add_intent(
            "p",
            1,
            "issue",
            "42",
            "<!-- labsync:incident=1/42 -->",
            "{}",
        )
        .unwrap();
    let b = s
        .add_intent(
            "p",
            1,
            "issue",
            "42",
            "<!-- labsync:incident=1/42 -->",
            "{}",
        )
        .unwrap();
    assert_eq!(a.id, b.id, "a retried create finds its own intent");
    assert!(a.fresh, "the first attempt made the intent");
    assert!(
        !b.fresh,
        "a retry is told an earlier attempt may have created the item"
    );
    assert_eq!(s.pending_intents("p", 1).unwrap().len(), 1);
    let mut item = commit(link(42, 1001));
    item.intent_id = Some(a.id);
    s.commit_item(&item).unwrap();
    assert!(s.pending_intents("p", 1).unwrap().is_empty());
}

#[test]
fn failing_items_back_off_then_park_and_success_clears_them() {
    let (_d, mut s) = store();
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap();
    assert_eq!(
        s.record_error("p", 1, Side::TestManagement, 42, "HTTP 500", now)
            .unwrap(),
        1
    );
    assert_eq!(
        s.record_error("p", 1, Side::TestManagement, 42, "HTTP 502", now)
            .unwrap(),
        2
    );
    let q = s.queued_errors("p", 1).unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].cause, "HTTP 502");
    assert_eq!(q[0].next_try, now + Duration::minutes(2));
    for _ in 2..PARK_AFTER {
        s.record_error("p", 1, Side::TestManagement, 42, "HTTP 500", now)
            .unwrap();
    }
    assert!(s.queued_errors("p", 1).unwrap()[0].parked);
    assert!(s.queued_errors("p", 1).unwrap()[0].next_try <= now + Duration::hours(6));
    s.commit_item(&commit(link(42, 1001))).unwrap();
    assert!(
        s.queued_errors("p", 1).unwrap().is_empty(),
        "a synced item leaves the queue"
    );
}
