//! Labels, milestones, people, references, credentials.

use labsync::sync::connector::{ErrorKind, TrackerLabel};

use super::tracker;
use crate::conformance::TrackerSubject;

/// The engine makes a priority label when it is missing and must find it
/// by its exact name next time; making it twice must not fail (gitlab §7:
/// a duplicate answers 409 "Label already exists"; §16 #13: a name that
/// looks like an id is read as an id by `GET …/labels/:name`).
pub async fn labels_are_found_by_exact_name_and_made_once(s: &TrackerSubject) {
    let name = s.unique("priority::label");
    assert_eq!(
        tracker(s).find_label(&s.project, &name).await.unwrap(),
        None
    );
    let label = TrackerLabel {
        name: name.clone(),
        color: "#d9534f".into(),
        description: None,
    };
    let made = tracker(s).create_label(&s.project, &label).await.unwrap();
    assert_eq!(made.name, name);
    let again = tracker(s).create_label(&s.project, &label).await.unwrap();
    assert_eq!(again.name, name);
    let found = tracker(s).find_label(&s.project, &name).await.unwrap();
    assert_eq!(found.map(|l| l.name), Some(name.clone()));
    let all = tracker(s).labels(&s.project).await.unwrap();
    assert_eq!(all.iter().filter(|l| l.name == name).count(), 1);
}

/// A milestone made for a release must be found by the next cycle, or one
/// is made every cycle (gitlab §8).
pub async fn created_milestone_is_listed(s: &TrackerSubject) {
    let title = s.unique("Release");
    let made = tracker(s)
        .create_milestone(&s.project, &title)
        .await
        .unwrap();
    assert_eq!(made.title, title);
    let all = tracker(s).milestones(&s.project).await.unwrap();
    assert!(all.contains(&made), "milestone {title} is not listed");
}

/// Owners are mapped to assignees by username, auto-mapped from the
/// members (gitlab §9: `GET /users?username=` matches case-insensitively).
pub async fn people_are_found_by_username(s: &TrackerSubject) {
    let members = tracker(s).members(&s.project).await.unwrap();
    let me = members
        .iter()
        .find(|m| m.username == s.me)
        .expect("the connector's user is no member");
    assert_eq!(tracker(s).user_id(&me.username).await.unwrap(), Some(me.id));
    let shouted = me.username.to_uppercase();
    assert_eq!(tracker(s).user_id(&shouted).await.unwrap(), Some(me.id));
    let nobody = s.unique("nobody").replace(' ', "-");
    assert_eq!(tracker(s).user_id(&nobody).await.unwrap(), None);
}

/// The test-management item keeps the tracker's reference as its marker;
/// the engine reads the item back from it, and only from its own
/// project's references.
pub async fn reference_names_the_item(s: &TrackerSubject) {
    let r = tracker(s).reference(&s.project, 12);
    assert_eq!(tracker(s).parse_reference(&s.project, &r), Some(12));
    let other = tracker(s).reference("other/project", 12);
    assert_eq!(tracker(s).parse_reference(&s.project, &other), None);
}

/// A revoked token stops the project with one error, nothing queued
/// (gitlab §1: 401 `invalid_token`, "Token was revoked").
pub async fn revoked_token_is_fatal(s: &TrackerSubject) {
    let e = s.revoked.project(&s.project).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Fatal, "{e}");
}
