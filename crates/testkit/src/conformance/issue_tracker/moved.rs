//! Items moved to another project.

use futures_util::TryStreamExt;
use labsync::inflight::InFlight;
use labsync::sync::connector::TrackerState;

use super::{create, tracker};
use crate::conformance::TrackerSubject;
use crate::conformance::subjects::not_checked;

/// A move leaves the original in place, closed, with `moved_to_id` set, and
/// `GET` on it answers 200, not 404 (gitlab §16 #3,
/// `app/services/issues/move_service.rb`). The engine must see the move
/// (not a close: the incident stays open), both when it reads the item and
/// in a listing, and tell people where the item went. GitLab's "moved to"
/// note names a project of the same namespace by its path alone
/// ("moved to archive#3": `SystemNotes::IssuablesService#noteable_moved`
/// with `Project#to_reference_base`), which says nothing to someone who
/// reads it in the test-management system: the connector gives the whole
/// path.
pub async fn moved_item_says_where_it_went(s: &TrackerSubject) {
    let Some(mover) = &s.mover else {
        not_checked(&s.project, "moving needs a second project (_MOVE_TO)");
        return;
    };
    let item = create(s, "moved away").await;
    s.clock.tick().await;
    let (to, there) = mover(item.iid).await.expect("the move was refused");
    let original = tracker(s).get(&s.project, item.iid).await.unwrap();
    assert_eq!(original.state, TrackerState::Closed);
    assert!(
        original.moved_to.is_some(),
        "the original does not say it moved"
    );
    let listed: Vec<_> = tracker(s)
        .changed_since(&s.project, Some(item.updated_at), InFlight::default())
        .try_collect()
        .await
        .unwrap();
    let in_listing = listed.iter().find(|i| i.iid == item.iid);
    assert!(
        in_listing.is_some_and(|i| i.moved_to == original.moved_to),
        "the listing does not show the move"
    );
    let whereto = tracker(s).moved_where(&s.project, item.iid).await.unwrap();
    assert_eq!(whereto, Some(format!("{to}#{there}")));
    let unmoved = create(s, "stays").await;
    let nowhere = tracker(s)
        .moved_where(&s.project, unmoved.iid)
        .await
        .unwrap();
    assert_eq!(nowhere, None);
}
