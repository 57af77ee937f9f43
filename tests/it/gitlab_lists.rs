//! The engine against GitLab's listing quirks (../shared/reference/
//! gitlab-api.md §16): notes filtered after paging, deleted notes, group
//! milestones, work item types. Each test failed before the engine learnt
//! the behaviour.

use labsync_testkit::world;

use labsync_sim::gitlab::GUEST;
use world::World;

/// The incident paired with an issue alice opened in GitLab.
async fn paired_issue(w: &mut World, title: &str) -> (u64, u32) {
    let iid = w.gitlab.create_issue_as("alice", title, "steps");
    w.cycle().await;
    w.advance(chrono::Duration::minutes(10));
    (iid, w.incident_named(title).incident_id)
}

fn comments_saying(w: &World, incident: u32, text: &str) -> usize {
    w.spira
        .comments(incident)
        .iter()
        .filter(|c| c.text.contains(text))
        .count()
}

/// `lib/api/notes.rb` drops the notes a caller may not read after paging:
/// a token below Reporter gets an empty first page when it holds only
/// internal notes, with `X-Next-Page` set. Before, the listing stopped
/// there and the newest note was never copied.
#[tokio::test]
async fn a_note_after_a_page_of_unreadable_notes_is_still_copied() {
    let mut w = World::new("").await;
    let (iid, incident) = paired_issue(&mut w, "Checkout fails").await;
    // The engine's token loses its role: internal notes are now hidden from it.
    w.gitlab.set_member("labsync-bot", GUEST);
    // Whatever notes came before, the second page of 100 is all internal.
    for n in 0..200 {
        w.gitlab
            .add_internal_note_as("carol", iid, &format!("internal {n}"))
            .unwrap();
    }
    w.gitlab
        .add_note_as("carol", iid, "Fixed on staging")
        .unwrap();
    w.cycle().await;
    assert_eq!(comments_saying(&w, incident, "Fixed on staging"), 1);
    assert_eq!(comments_saying(&w, incident, "internal"), 0);
}

/// GitLab deletes notes (doc/api/notes.md, lib/api/notes.rb) and
/// `user_notes_count` drops: one deleted and one added leave the count equal
/// to the notes already paired, which is all the issue listing tells. The
/// comment sweep reads the notes and finds one newer than any seen. Before,
/// the new note was never copied.
#[tokio::test]
async fn a_note_added_as_another_is_deleted_still_reaches_spira() {
    let mut w = World::new(r#"comment_sweep = "5m""#).await;
    let (iid, incident) = paired_issue(&mut w, "Export is empty").await;
    let first = w.gitlab.add_note_as("bob", iid, "Seen on Firefox").unwrap();
    w.cycle().await;
    assert_eq!(comments_saying(&w, incident, "Seen on Firefox"), 1);
    w.advance(chrono::Duration::minutes(10));
    w.cycle().await;

    assert!(w.gitlab.delete_note(first));
    w.gitlab.add_note_as("bob", iid, "Also on Chrome").unwrap();
    for _ in 0..2 {
        w.advance(chrono::Duration::minutes(6));
        w.cycle().await;
    }
    assert_eq!(comments_saying(&w, incident, "Also on Chrome"), 1);
    assert_eq!(
        comments_saying(&w, incident, "Seen on Firefox"),
        1,
        "a deleted note's copy stays"
    );
}

/// A project's issue list returns tasks and test cases too
/// (`Issue::TYPES_FOR_LIST`, app/models/issue.rb). Before, a GitLab task
/// became a Spira incident; now only the types `gitlab_issue_types` names
/// (issues and incidents by default) are synced.
#[tokio::test]
async fn a_gitlab_task_becomes_an_incident_only_when_tasks_are_listed() {
    let mut w = World::new("").await;
    w.gitlab.create_issue_as("alice", "Login fails", "steps");
    w.gitlab
        .create_work_item_as("alice", "Write the migration", "task");
    w.gitlab
        .create_work_item_as("alice", "Outage on staging", "incident");
    w.cycle().await;
    w.incident_named("Login fails");
    w.incident_named("Outage on staging");
    let names: Vec<String> = w.spira.incidents(1).into_iter().map(|i| i.name).collect();
    assert_eq!(names.len(), 2, "{names:?}");

    let mut w = World::new(r#"gitlab_issue_types = ["issue", "task"]"#).await;
    w.gitlab
        .create_work_item_as("alice", "Write the migration", "task");
    w.cycle().await;
    w.incident_named("Write the migration");
}

/// Milestone titles are unique across a project and its ancestor groups
/// (app/models/milestone.rb), and a project's list holds the group's only
/// with `include_ancestors=true` (doc/api/milestones.md). Before, a Spira
/// release named like a group milestone made the engine create a project
/// milestone of that title, which GitLab refused (400) on every cycle.
#[tokio::test]
async fn a_release_named_like_a_group_milestone_links_to_it() {
    let mut w = World::new("").await;
    let group_milestone = w.gitlab.add_group_milestone("Sprint 7");
    let release = w.spira.add_release(1, "Sprint 7", "7.0", 3);
    let id = w.spira.add_incident(1, "Cart total is wrong", 1);
    w.spira
        .edit_incident(id, |i| i.resolved_release_id = Some(release));
    let r = w.cycle().await;
    assert_eq!(r.totals().created_issues, 1, "{r:?}");
    let issue = w.issue_titled("Cart total is wrong");
    assert_eq!(issue["milestone"]["id"], group_milestone, "{issue:#?}");
    assert!(issue["milestone"]["group_id"].is_u64(), "{issue:#?}");
    w.advance(chrono::Duration::minutes(10));
    let r = w.cycle().await;
    assert!(r.projects.iter().all(|p| p.failures.is_empty()), "{r:?}");
    assert_eq!(
        w.gitlab
            .request_count("POST /api/v4/projects/{id}/milestones"),
        0
    );
}
