//! Links, their comments, and an item's committed outcome.

use labsync::model::{CreatedBy, Side};
use labsync::sync::storage::{Link, Storage};

use super::{
    Inspect, P, Q, StoredEvent, assert_constraint, at, comment, commit, event, issue_id, link,
    stored, tracker_project,
};

/// The engine commits an item's outcome once, whole: after a crash the
/// link, its base, the comments copied and the audit are there together,
/// and the create intents and queued errors it settled are gone.
pub fn a_committed_item_is_all_there(s: &mut impl Inspect) {
    let run = s.start_run(P, "sync-now").unwrap();
    // The create this item fulfilled (a comment copied), named by id.
    let intent = s.add_intent(P, 1, "comment", "1", "mark-c1", "{}").unwrap();
    // Settled by the pair, though the item does not name them.
    s.add_intent(P, 1, "issue", "7", "mark-7", "{}").unwrap();
    let issue_source = issue_id(7).to_string();
    s.add_intent(P, 1, "incident", &issue_source, "mark-i7", "{}")
        .unwrap();
    s.record_error(P, 1, Side::TestManagement, 7, "busy", at(0))
        .unwrap();
    s.record_error(P, 1, Side::IssueTracker, 7, "busy", at(0))
        .unwrap();
    s.record_error(P, 1, Side::TestManagement, 8, "other item", at(0))
        .unwrap();
    let mut item = commit(link(P, 1, 7));
    item.run_id = Some(run);
    item.intent_id = Some(intent.id);
    item.comments = vec![
        comment(1, 11, Side::TestManagement),
        comment(2, 12, Side::IssueTracker),
    ];
    item.events = vec![event("create", None), event("update", Some("title"))];
    let id = s.commit_item(&item).unwrap();
    assert!(id > 0, "a stored link has an id: {id}");

    let back = s.link_by_tm_item(P, 1, 7).unwrap();
    assert_eq!(
        back,
        Some(Link {
            id,
            ..item.link.clone()
        })
    );
    assert_eq!(s.comment_links(id).unwrap(), item.comments);
    let events: Vec<StoredEvent> = item
        .events
        .iter()
        .map(|e| StoredEvent {
            run_id: Some(run),
            link_id: id,
            incident_id: 7,
            issue_iid: 7,
            event: e.clone(),
        })
        .collect();
    assert_eq!(s.events(), events);
    let again = s.add_intent(P, 1, "comment", "1", "mark-c1", "{}").unwrap();
    assert!(again.fresh, "the fulfilled intent was kept: {again:?}");
    let again = s.add_intent(P, 1, "issue", "7", "mark-7", "{}").unwrap();
    assert!(again.fresh, "the pair's intent was kept: {again:?}");
    let again = s
        .add_intent(P, 1, "incident", &issue_source, "mark-i7", "{}")
        .unwrap();
    assert!(again.fresh, "the pair's other intent was kept: {again:?}");
    let queued: Vec<_> = s
        .queued_errors(P, 1)
        .unwrap()
        .into_iter()
        .map(|e| (e.side, e.item_id))
        .collect();
    assert_eq!(
        queued,
        [(Side::TestManagement, 8)],
        "errors the pair settled stayed"
    );
}

/// A refused commit (the database's constraints: one link per incident,
/// one per issue, a known plugin) must leave nothing half-written: the
/// engine retries the item next cycle from where it was.
pub fn a_refused_item_leaves_nothing(s: &mut impl Inspect) {
    let first = stored(s, P, 1, 7);
    let intent = s.add_intent(P, 1, "issue", "8", "mark-8", "{}").unwrap();
    s.record_error(P, 1, Side::TestManagement, 8, "busy", at(0))
        .unwrap();
    // Incident 8 paired with the issue incident 7 is linked to.
    let mut clash = commit(Link {
        tracker_item_id: issue_id(7),
        ..link(P, 1, 8)
    });
    clash.intent_id = Some(intent.id);
    clash.comments = vec![comment(1, 11, Side::TestManagement)];
    clash.events = vec![event("create", None)];
    assert_constraint(s.commit_item(&clash), "a second link for one issue");
    // Incident 7 paired a second time, with another issue.
    let twice = Link {
        tracker_item_id: issue_id(70),
        ..link(P, 1, 7)
    };
    assert_constraint(
        s.commit_item(&commit(twice)),
        "a second link for one incident",
    );
    assert_constraint(
        s.commit_item(&commit(link("nobody", 1, 9))),
        "a link of an unknown plugin",
    );

    // Refused at its last write: audit events of a run that does not exist.
    let mut late = commit(link(P, 1, 9));
    late.run_id = Some(9999);
    late.comments = vec![comment(1, 11, Side::TestManagement)];
    late.events = vec![event("create", None)];
    assert_constraint(s.commit_item(&late), "events of an unknown run");
    assert_eq!(
        s.link_by_tm_item(P, 1, 9).unwrap(),
        None,
        "half an item was kept"
    );

    assert_eq!(s.link_by_tm_item(P, 1, 8).unwrap(), None);
    assert_eq!(
        s.link_by_tracker_item(P, tracker_project(1), issue_id(70))
            .unwrap(),
        None
    );
    let kept = s
        .link_by_tracker_item(P, tracker_project(1), issue_id(7))
        .unwrap();
    assert_eq!(kept.map(|l| (l.id, l.tm_item)), Some((first, 7)));
    assert_eq!(s.events(), [], "a refused item left audit events");
    let again = s.add_intent(P, 1, "issue", "8", "mark-8", "{}").unwrap();
    assert!(!again.fresh, "a refused item dropped its intent");
    let queued: Vec<_> = s.queued_errors(P, 1).unwrap();
    assert_eq!(
        queued.len(),
        1,
        "a refused item cleared its error: {queued:?}"
    );
}

/// A cycle finds a pair from whichever side changed, and only within its
/// plugin and project: two plugins may link the same numbers.
pub fn a_link_is_found_from_either_side(s: &mut impl Inspect) {
    let id = stored(s, P, 1, 7);
    let other = stored(s, Q, 1, 7);
    assert_ne!(id, other);
    let by_incident = s.link_by_tm_item(P, 1, 7).unwrap().unwrap();
    let by_issue = s
        .link_by_tracker_item(P, tracker_project(1), issue_id(7))
        .unwrap()
        .unwrap();
    assert_eq!(by_incident.id, id);
    assert_eq!(by_incident, by_issue);
    assert_eq!(
        s.link_by_tm_item(Q, 1, 7).unwrap().map(|l| l.id),
        Some(other)
    );
    assert_eq!(s.link_by_tm_item(P, 2, 7).unwrap(), None, "another project");
    assert_eq!(s.link_by_tm_item(P, 1, 8).unwrap(), None);
    // An issue is found by its id, not by its number in the project.
    assert_eq!(
        s.link_by_tracker_item(P, tracker_project(1), 7).unwrap(),
        None
    );
    assert_eq!(
        s.link_by_tracker_item(P, tracker_project(2), issue_id(7))
            .unwrap(),
        None
    );
}

/// Each sync of a pair commits its new base and counters over the old;
/// a comment pair committed again is not stored twice.
pub fn a_recommit_replaces_the_pairs_state(s: &mut impl Inspect) {
    let mut item = commit(link(P, 1, 7));
    item.comments = vec![comment(1, 11, Side::TestManagement)];
    let id = s.commit_item(&item).unwrap();
    let mut changed = link(P, 1, 7);
    changed.id = id;
    changed.base.title = "Renamed".into();
    changed.base.status = Some(2);
    changed.tracker_kept.assignee = None;
    changed.last_tracker_comment = 12;
    changed.last_tm_comment = 2;
    changed.comments_checked_at = Some(at(3));
    let mut again = commit(changed.clone());
    again.comments = vec![
        comment(1, 11, Side::TestManagement),
        comment(2, 12, Side::IssueTracker),
    ];
    again.events = vec![event("update", Some("title"))];
    assert_eq!(s.commit_item(&again).unwrap(), id);
    assert_eq!(s.link_by_tm_item(P, 1, 7).unwrap(), Some(changed));
    assert_eq!(s.comment_links(id).unwrap(), again.comments);
    assert_eq!(s.events().len(), 1);
}

/// When another install's issue is the one an incident names, the engine
/// points the link there; the old issue's notes mean nothing for it.
pub fn a_relink_points_at_the_new_issue_and_forgets_its_comments(s: &mut impl Inspect) {
    let mut item = commit(Link {
        orphaned: Some("issue deleted".into()),
        last_tracker_comment: 12,
        last_tm_comment: 2,
        ..link(P, 1, 7)
    });
    item.comments = vec![comment(1, 11, Side::TestManagement)];
    let id = s.commit_item(&item).unwrap();
    let url = "https://gitlab.invalid/g/1/-/issues/44";
    s.relink_tracker_item(id, issue_id(44), 44, url).unwrap();
    let expected = Link {
        id,
        tracker_item_id: issue_id(44),
        tracker_iid: 44,
        tracker_url: url.into(),
        orphaned: None,
        last_tracker_comment: 0,
        created_by: CreatedBy::Matched,
        ..item.link.clone()
    };
    let by_issue = s
        .link_by_tracker_item(P, tracker_project(1), issue_id(44))
        .unwrap();
    assert_eq!(by_issue, Some(expected));
    assert_eq!(
        s.link_by_tracker_item(P, tracker_project(1), issue_id(7))
            .unwrap(),
        None
    );
    assert_eq!(s.comment_links(id).unwrap(), []);
}

/// An orphaned pair is never synced again, and says why (`labsync
/// status`); the comment sweep passes it by.
pub fn an_orphaned_link_keeps_its_reason_and_leaves_the_comment_sweep(s: &mut impl Inspect) {
    let gone = stored(s, P, 1, 7);
    let kept = stored(s, P, 1, 8);
    s.mark_orphaned(gone, "moved to g/archive#1").unwrap();
    let link = s.link_by_tm_item(P, 1, 7).unwrap().unwrap();
    assert_eq!(link.orphaned.as_deref(), Some("moved to g/archive#1"));
    let due = s.links_due_for_comment_check(P, 1, at(60), 10).unwrap();
    assert_eq!(due.iter().map(|l| l.id).collect::<Vec<_>>(), [kept]);
}

/// Comments copied for one pair never count as copied for another, and a
/// comment is paired once: it is never copied twice.
pub fn comment_links_belong_to_their_link_and_pair_once(s: &mut impl Inspect) {
    let mut a = commit(link(P, 1, 7));
    a.comments = vec![
        comment(1, 11, Side::TestManagement),
        comment(2, 12, Side::IssueTracker),
    ];
    let a_id = s.commit_item(&a).unwrap();
    let mut b = commit(link(P, 1, 8));
    b.comments = vec![comment(1, 11, Side::IssueTracker)];
    let b_id = s.commit_item(&b).unwrap();
    assert_eq!(s.comment_links(a_id).unwrap(), a.comments);
    assert_eq!(s.comment_links(b_id).unwrap(), b.comments);
    // The same comment with another note, and another comment with a note
    // already paired: neither is stored.
    let mut again = commit(Link {
        id: a_id,
        ..link(P, 1, 7)
    });
    again.comments = vec![
        comment(1, 99, Side::TestManagement),
        comment(9, 12, Side::TestManagement),
        comment(3, 13, Side::TestManagement),
    ];
    s.commit_item(&again).unwrap();
    let mut expected = a.comments.clone();
    expected.push(comment(3, 13, Side::TestManagement));
    assert_eq!(s.comment_links(a_id).unwrap(), expected);
    assert_eq!(s.comment_links(9999).unwrap(), []);
}

/// The comment sweep reads a few pairs a cycle: those never read first,
/// then the longest unread, only of its plugin and project.
pub fn links_due_for_a_comment_check_come_never_checked_first(s: &mut impl Inspect) {
    let checked = |minutes| Some(at(minutes));
    let mut ids = Vec::new();
    for (incident, when) in [
        (1, checked(5)),
        (2, None),
        (3, checked(1)),
        (4, checked(10)),
        (5, None),
    ] {
        let item = commit(Link {
            comments_checked_at: when,
            ..link(P, 1, incident)
        });
        ids.push(s.commit_item(&item).unwrap());
    }
    stored(s, Q, 1, 6);
    stored(s, P, 2, 6);
    let due = |s: &mut dyn Storage, limit| -> Vec<i64> {
        let links = s.links_due_for_comment_check(P, 1, at(10), limit).unwrap();
        links.iter().map(|l| l.tm_item).collect()
    };
    assert_eq!(due(s, 10), [2, 5, 3, 1], "checked at the bound is not due");
    assert_eq!(due(s, 2), [2, 5]);
    s.mark_comments_checked(ids[1], at(20)).unwrap();
    assert_eq!(due(s, 10), [5, 3, 1]);
    let marked = s.link_by_tm_item(P, 1, 2).unwrap().unwrap();
    assert_eq!(marked.comments_checked_at, Some(at(20)));
}
