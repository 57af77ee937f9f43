//! Items: setup, create, read, update, claim, delete, markers, releases.

use labsync::sync::connector::{ErrorKind, TmEdit, TrackerLink};

use super::{create, id, kind_of_get, new_item, rename};
use crate::conformance::TmSubject;

/// The engine resolves statuses, priorities and users by the setup's names
/// and ids, and writes those ids back (spira §5, §8).
pub async fn setup_offers_what_items_use(s: &TmSubject) {
    let setup = s.ready().await;
    assert!(!setup.statuses.is_empty(), "no statuses offered");
    assert!(!setup.priorities.is_empty(), "no priorities offered");
    assert!(!setup.users.is_empty(), "no users offered");
    let priority = setup.priorities.last().unwrap().id;
    let owner = setup.users.last().unwrap().id;
    let mut new = new_item(s, "uses the setup");
    new.priority = Some(Some(priority));
    new.owner = Some(Some(owner));
    let item = s.connector.create(s.project, &new).await.unwrap();
    assert_eq!((item.priority, item.owner), (Some(priority), Some(owner)));
}

/// The engine links and stores its base from a create's answer, so the
/// answer must be the item as held, defaults filled in; Spira's POST
/// answers only the object sent plus its id (spira §3.4: re-read it).
pub async fn create_returns_the_item_as_held(s: &TmSubject) {
    s.ready().await;
    let mut new = new_item(s, "created");
    let marker = s.unique("group/project#1");
    new.link = Some(TrackerLink {
        marker: marker.clone(),
        url: None,
    });
    let made = s.connector.create(s.project, &new).await.unwrap();
    assert_eq!(Some(made.title.clone()), new.title);
    assert_eq!(Some(made.description.clone()), new.description);
    assert_eq!(made.marker.as_deref(), Some(marker.as_str()));
    assert!(made.status.is_some(), "the default status is not filled in");
    assert!(made.updated_at.is_some(), "no change date");
    let read = s.connector.get(s.project, id(&made)).await.unwrap();
    assert_eq!(
        (
            read.title,
            read.description,
            read.status,
            read.marker,
            read.updated_at
        ),
        (
            made.title,
            made.description,
            made.status,
            made.marker,
            made.updated_at
        )
    );
}

/// A link whose item is gone is orphaned on NotFound, and only then
/// (spira §10: 404).
pub async fn unknown_item_is_not_found(s: &TmSubject) {
    s.ready().await;
    let kind = kind_of_get(s.connector.as_ref(), s.project, 2_000_000_000).await;
    assert_eq!(kind, Some(ErrorKind::NotFound));
}

/// A deleted item is orphaned, never written to nor listed again
/// (spira §3.6: a soft delete; 404 afterwards).
pub async fn deleted_item_is_not_found_nor_listed(s: &TmSubject) {
    s.ready().await;
    let item = create(s, "deleted").await;
    s.connector.delete(s.project, id(&item)).await.unwrap();
    let kind = kind_of_get(s.connector.as_ref(), s.project, id(&item)).await;
    assert_eq!(kind, Some(ErrorKind::NotFound));
    let since = item.updated_at.unwrap();
    let listed = super::listing::listed_ids(s, since).await;
    assert!(!listed.contains(&id(&item)), "a deleted item is listed");
}

/// The engine writes merged fields and compares what the system kept.
pub async fn update_writes_and_reads_back(s: &TmSubject) {
    let setup = s.ready().await;
    let item = create(s, "to update").await;
    let edit = TmEdit {
        title: Some(s.unique("updated")),
        description: Some("<p>new text</p>".into()),
        priority: Some(Some(setup.priorities[0].id)),
        ..TmEdit::default()
    };
    let saved = s
        .connector
        .update(s.project, id(&item), Some(item.clone()), &edit, true)
        .await
        .unwrap();
    let read = s.connector.get(s.project, id(&item)).await.unwrap();
    for got in [&saved, &read] {
        assert_eq!(Some(got.title.clone()), edit.title);
        assert_eq!(got.description, "<p>new text</p>");
        assert_eq!(got.priority, Some(setup.priorities[0].id));
    }
    assert!(read.updated_at >= item.updated_at);
}

/// Echoes of the engine's own writes come back as edits that change
/// nothing: they must cost no save (Spira may answer 409 to a PUT that
/// changes nothing: spira §13 row 5) and move no date.
pub async fn update_that_changes_nothing_leaves_the_item_alone(s: &TmSubject) {
    s.ready().await;
    let item = create(s, "unchanged").await;
    s.clock.tick().await;
    let same = TmEdit {
        title: Some(item.title.clone()),
        ..TmEdit::default()
    };
    s.connector
        .update(s.project, id(&item), Some(item.clone()), &same, true)
        .await
        .unwrap();
    let read = s.connector.get(s.project, id(&item)).await.unwrap();
    assert_eq!(
        read.updated_at, item.updated_at,
        "an edit that changed nothing moved the date"
    );
}

/// The engine writes from the copy it read; when a person saved in
/// between, the write must neither fail for good nor undo the person's
/// save (spira §3.5: a stale ConcurrencyDate is refused with 409).
pub async fn update_from_a_stale_copy_keeps_the_other_save(s: &TmSubject) {
    s.ready().await;
    let stale = create(s, "stale copy").await;
    s.clock.tick().await;
    let theirs = rename(s, id(&stale), "renamed by a person").await;
    let edit = TmEdit {
        description: Some("<p>ours</p>".into()),
        ..TmEdit::default()
    };
    s.connector
        .update(s.project, id(&stale), Some(stale.clone()), &edit, true)
        .await
        .unwrap();
    let read = s.connector.get(s.project, id(&stale)).await.unwrap();
    assert_eq!(read.title, theirs.title, "the person's save was undone");
    assert_eq!(read.description, "<p>ours</p>");
}

/// Two installs claim an item at once and only one may win: a claim from
/// a copy someone saved since is refused and writes nothing (spira §3.5:
/// 409 on a stale ConcurrencyDate).
pub async fn claim_refuses_a_stale_copy(s: &TmSubject) {
    s.ready().await;
    let stale = create(s, "claimed").await;
    s.clock.tick().await;
    rename(s, id(&stale), "saved meanwhile").await;
    let marker = s.unique("claim");
    let refused = s
        .connector
        .claim(s.project, &stale, &marker)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), &ErrorKind::Busy, "{refused}");
    let fresh = s.connector.get(s.project, id(&stale)).await.unwrap();
    assert_eq!(
        s.connector.marker(s.project, &fresh),
        None,
        "a refused claim wrote"
    );
    s.connector.claim(s.project, &fresh, &marker).await.unwrap();
    let claimed = s.connector.get(s.project, id(&stale)).await.unwrap();
    assert_eq!(s.connector.marker(s.project, &claimed), Some(marker));
}

/// After a crash the engine finds what it created by its marker; a marker
/// that is a prefix of another must not find the other (Spira's string
/// filter is a substring match: spira §3.2, §7).
pub async fn marker_is_found_exactly(s: &TmSubject) {
    s.ready().await;
    let base = s.unique("group/project");
    let mut ids = Vec::new();
    for marker in [format!("{base}#4"), format!("{base}#42")] {
        let mut new = new_item(s, "marked");
        new.link = Some(TrackerLink { marker, url: None });
        ids.push(id(&s.connector.create(s.project, &new).await.unwrap()));
    }
    for (marker, want) in [("#4", vec![ids[0]]), ("#42", vec![ids[1]]), ("#7", vec![])] {
        let found = s
            .connector
            .find_by_marker(s.project, &format!("{base}{marker}"))
            .await
            .unwrap();
        let found: Vec<i64> = found.iter().map(super::id).collect();
        assert_eq!(found, want, "items marked {base}{marker}");
    }
}

/// A release made for a milestone must be found by the next cycle's setup,
/// or one is made every cycle (spira §13 rows 1-2: iterations are left out
/// of the plain release list).
pub async fn created_release_is_offered(s: &TmSubject) {
    s.ready().await;
    let title = s.unique("Milestone");
    let made = s.connector.create_release(s.project, &title).await.unwrap();
    assert_eq!(made.name, title);
    let setup = s.ready().await;
    assert!(
        setup
            .releases
            .iter()
            .any(|r| r.id == made.id && r.name == title),
        "release {} is not offered",
        made.id
    );
}

/// Watermarks are the server's time, compared with item dates less an
/// overlap of at least a minute: both must be on one clock.
pub async fn server_clock_stamps_writes(s: &TmSubject) {
    s.ready().await;
    let item = create(s, "stamped").await;
    let now = s
        .connector
        .server_now()
        .expect("no server time after an answer");
    let stamped = item.updated_at.unwrap();
    let apart = (now - stamped).num_seconds().abs();
    assert!(
        apart < 60,
        "the item is stamped {stamped}, the server says {now}"
    );
    assert!(
        s.connector
            .web_url(s.project, id(&item))
            .contains(&id(&item).to_string())
    );
}

/// Refused credentials stop the project with one error, nothing queued.
pub async fn refused_credentials_are_fatal(s: &TmSubject) {
    let e = s.refused.setup(s.project).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Fatal, "{e}");
}
