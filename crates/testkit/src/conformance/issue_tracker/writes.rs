//! Items: create, read, update, what the tracker keeps, comments.

use labsync::sync::connector::{ErrorKind, StateChange, TrackerEdit, TrackerState};

use super::{create, new_item, tracker};
use crate::conformance::TrackerSubject;

/// The engine resolves the configured project once per cycle, by path or
/// id (gitlab §1: `:id` is a number or the URL-encoded path).
pub async fn project_is_found_by_path_and_id(s: &TrackerSubject) {
    let p = tracker(s).project(&s.project).await.unwrap();
    assert_eq!(p.path, s.project);
    let by_id = tracker(s).project(&p.id.to_string()).await.unwrap();
    assert_eq!(by_id, p);
}

/// The engine links and stores its base from a create's answer: the item
/// as held, its link back readable, its text as the tracker keeps it
/// (gitlab §5: 201 with the issue).
pub async fn create_returns_the_item_with_its_link(s: &TrackerSubject) {
    let mut new = new_item(s, "created");
    new.labels = vec![s.unique("label")];
    let made = tracker(s).create(&s.project, &new).await.unwrap();
    assert!(made.iid > 0);
    assert_eq!(made.title, new.title);
    assert_eq!(made.body, tracker(s).body_as_kept(&new.body));
    assert_eq!(made.marker, Some((new.link.project, new.link.item)));
    assert_eq!(made.state, TrackerState::Open);
    assert_eq!(made.labels, new.labels);
    assert_eq!(made.kind, "issue");
    let read = tracker(s).get(&s.project, made.iid).await.unwrap();
    assert_eq!(read, made);
}

/// A link whose item is gone is orphaned on NotFound, and only then
/// (gitlab §2: an unknown iid answers 404 "404 Not found").
pub async fn unknown_item_is_not_found(s: &TrackerSubject) {
    let e = tracker(s).get(&s.project, 2_000_000_000).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound, "{e}");
}

/// Owners and admins delete issues; afterwards GET answers 404, and the
/// engine orphans the link (gitlab §16 #12, `doc/api/issues.md`).
pub async fn deleted_item_is_not_found(s: &TrackerSubject) {
    let Some(delete) = &s.delete else {
        crate::conformance::subjects::not_checked(&s.project, "deleting needs an owner's token");
        return;
    };
    let item = create(s, "deleted").await;
    assert!(delete(item.iid));
    let e = tracker(s).get(&s.project, item.iid).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound, "{e}");
}

/// The engine writes merged fields and keeps what the tracker answered
/// as the item's new state (gitlab §5: PUT answers the issue).
pub async fn update_writes_and_returns_what_was_kept(s: &TrackerSubject) {
    let item = create(s, "to update").await;
    let milestone = tracker(s)
        .create_milestone(&s.project, &s.unique("Sprint"))
        .await
        .unwrap();
    let new = new_item(s, "updated");
    let label = s.unique("label");
    let edit = TrackerEdit {
        title: Some(new.title.clone()),
        body: Some("New *text*.".into()),
        link: Some(new.link.clone()),
        state: Some(StateChange::Close),
        add_labels: vec![label.clone()],
        milestone: Some(Some(milestone.id)),
        ..TrackerEdit::default()
    };
    let saved = tracker(s)
        .update(&s.project, item.iid, &edit)
        .await
        .unwrap();
    let read = tracker(s).get(&s.project, item.iid).await.unwrap();
    assert_eq!(saved, read, "the answer is not what the tracker kept");
    assert_eq!(read.title, new.title);
    assert_eq!(read.body, "New *text*.");
    assert_eq!(read.marker, Some((new.link.project, new.link.item)));
    assert_eq!(read.state, TrackerState::Closed);
    assert_eq!(read.labels, vec![label]);
    assert_eq!(read.milestone, Some(milestone.title));
    let reopen = TrackerEdit {
        state: Some(StateChange::Reopen),
        ..TrackerEdit::default()
    };
    let reopened = tracker(s)
        .update(&s.project, item.iid, &reopen)
        .await
        .unwrap();
    assert_eq!(reopened.state, TrackerState::Open);
}

/// The engine's plan may carry nothing for the tracker; an empty edit
/// must read the item, not fail (GitLab answers 400 to a PUT without a
/// parameter: Grape's `at_least_one_of`, `lib/api/issues.rb`; gitlab §5).
pub async fn empty_edit_reads_the_item(s: &TrackerSubject) {
    let item = create(s, "untouched").await;
    let read = tracker(s)
        .update(&s.project, item.iid, &TrackerEdit::default())
        .await
        .unwrap();
    assert_eq!(read, item);
}

/// The engine compares what it wrote with what it reads back; if the
/// tracker keeps other text than `body_as_kept` says, the difference
/// reads as a person's edit and is copied back. GitLab runs quick actions
/// in descriptions and strips them, deletes `\r` and trailing whitespace
/// (gitlab §16 #2, `app/services/issuable_base_service.rb`).
pub async fn body_as_kept_predicts_the_stored_body(s: &TrackerSubject) {
    let mut new = new_item(s, "hostile body");
    let label = s.unique("quick");
    new.body = format!("Steps:\r\n/close\n/label ~\"{label}\"\n  /assign @alice\nEnd.   \n\n");
    let made = tracker(s).create(&s.project, &new).await.unwrap();
    assert_eq!(made.body, tracker(s).body_as_kept(&new.body));
    assert_eq!(
        made.state,
        TrackerState::Open,
        "a line of the text closed the item"
    );
    assert!(
        made.labels.is_empty(),
        "a line of the text labelled the item"
    );
    assert_eq!(made.assignee, None, "a line of the text assigned the item");
}

/// The same for titles: GitLab refuses titles over 255 characters
/// (`TITLE_LENGTH_MAX`, `app/models/concerns/issuable.rb`; gitlab §5).
pub async fn title_as_kept_predicts_the_stored_title(s: &TrackerSubject) {
    let mut new = new_item(s, "long");
    new.title = format!("{} {}", s.unique("long"), "é".repeat(300));
    let made = tracker(s).create(&s.project, &new).await.unwrap();
    assert_eq!(made.title, tracker(s).title_as_kept(&new.title));
    assert!(made.title.chars().count() <= 255);
}

/// The engine copies comments in order, remembering the last it copied;
/// a copied comment is only ever text (GitLab lists notes newest first by
/// default, gitlab §6; a note of quick actions only is run and answered
/// 202 without a note, `lib/api/notes.rb`).
pub async fn comments_are_text_oldest_first(s: &TrackerSubject) {
    let item = create(s, "commented").await;
    let first = tracker(s)
        .add_comment(&s.project, item.iid, "first")
        .await
        .unwrap();
    s.clock.tick().await;
    let second = tracker(s)
        .add_comment(&s.project, item.iid, "/close")
        .await
        .unwrap();
    assert!(second.id > first.id, "ids do not grow");
    let listed = tracker(s).comments(&s.project, item.iid).await.unwrap();
    let ours: Vec<u64> = listed
        .iter()
        .filter(|c| c.by_person)
        .map(|c| c.id)
        .collect();
    assert_eq!(ours, vec![first.id, second.id]);
    assert!(
        listed
            .iter()
            .all(|c| c.author_username == s.me || !c.by_person)
    );
    assert_eq!(first.body, "first");
    let after = tracker(s).get(&s.project, item.iid).await.unwrap();
    assert_eq!(after.state, TrackerState::Open, "a comment closed the item");
}

/// After a crash the engine looks for what it created by its link back in
/// its own recent creates: GitLab's search never finds text in an HTML
/// comment, where the marker is (gitlab §16 #1).
pub async fn own_creates_are_found_again(s: &TrackerSubject) {
    let before = create(s, "before").await;
    s.clock.tick().await;
    let item = create(s, "lost answer").await;
    let since = item.updated_at - chrono::Duration::milliseconds(500);
    let found = tracker(s)
        .created_by_me_since(&s.project, since)
        .await
        .unwrap();
    let hit = found
        .iter()
        .find(|i| i.iid == item.iid)
        .expect("own create not found");
    assert_eq!(hit.marker, item.marker);
    assert!(
        found.iter().all(|i| i.iid != before.iid),
        "an older create is found"
    );
}
