//! Labels, milestones, people, references, credentials.

use labsync::sync::connector::{ErrorKind, TrackerEdit, TrackerLabel};

use super::tracker;
use crate::conformance::TrackerSubject;
use crate::conformance::subjects::not_checked;

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

/// An assignee the tracker may not assign (an unknown user; someone who
/// cannot read the issues of a private project) is dropped silently: the
/// write answers 200 and the previous assignee stays (gitlab §16 #5,
/// `app/services/issuable_base_service.rb`, `filter_assignees_using_checks`:
/// the ids left are those `User.id_in` finds and `user_can_read?` admits;
/// none left, the parameter is deleted). The connector must answer who is
/// really assigned, never the one sent: the engine records what GitLab kept
/// from that answer, and otherwise reads the old assignee next cycle as a
/// GitLab edit and reverts the owner in the test-management system.
pub async fn an_assignee_who_cannot_be_assigned_is_not_reported_as_set(s: &TrackerSubject) {
    let me = tracker(s)
        .user_id(&s.me)
        .await
        .unwrap()
        .expect("the connector's user");
    let mut cannot = vec![2_000_000_000];
    match &s.outsider {
        Some(name) => cannot.push(
            tracker(s)
                .user_id(name)
                .await
                .unwrap()
                .expect("the outsider"),
        ),
        None => not_checked(&s.project, "no outsider named (_OUTSIDER)"),
    }
    let mut new = super::new_item(s, "assigned to nobody");
    new.assignee = Some(cannot[0]);
    let made = tracker(s).create(&s.project, &new).await.unwrap();
    assert_eq!(
        made.assignee, None,
        "a create says it assigned someone unknown"
    );
    let assign = |id: u64| TrackerEdit {
        assignees: Some(vec![id]),
        ..TrackerEdit::default()
    };
    let mine = tracker(s)
        .update(&s.project, made.iid, &assign(me))
        .await
        .unwrap();
    assert_eq!(mine.assignee.as_deref(), Some(s.me.as_str()));
    for id in cannot {
        let answer = tracker(s)
            .update(&s.project, made.iid, &assign(id))
            .await
            .unwrap();
        let read = tracker(s).get(&s.project, made.iid).await.unwrap();
        assert_eq!(
            read.assignee.as_deref(),
            Some(s.me.as_str()),
            "user {id} was assigned"
        );
        assert_eq!(
            answer.assignee, read.assignee,
            "the answer names user {id}, who is not assigned"
        );
    }
}
