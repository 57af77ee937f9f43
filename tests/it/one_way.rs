//! A one-way plugin writes one side only (issue 13, item 2): comments,
//! releases, milestones and labels included. The only write to the other
//! side is the link-back that finds a pair again: with `to-gitlab`, the
//! incident's "GitLab Issue" and "GitLab URL" properties; with
//! `to-test-management`, none. Through the binary, as it was seen.

use labsync_testkit::world;

use labsync::spira::Release;
use world::{Output, World};

fn ok(run: &Output) {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

/// Makes a Spira release as a tester would; returns its id.
async fn add_release(w: &World, name: &str) -> u32 {
    let now = chrono::Utc::now();
    w.spira_client()
        .create_release(
            1,
            &Release {
                name: name.into(),
                version_number: name.into(),
                active: true,
                release_type_id: Some(1),
                release_status_id: Some(1),
                start_date: Some(now),
                end_date: Some(now + chrono::Duration::days(30)),
                ..Release::default()
            },
        )
        .await
        .unwrap()
        .release_id
        .unwrap()
}

fn iid_of(w: &World, title: &str) -> u64 {
    w.issue_titled(title)["iid"].as_u64().unwrap()
}

#[tokio::test]
async fn to_gitlab_never_writes_comments_or_releases_into_spira() {
    let w = World::new("direction = \"to-gitlab\"").await;
    let tester = w.spira_user("alice");
    let id = w.spira.add_incident(1, "Cart total is wrong", tester);
    ok(&w.labsync(&["sync"]).await);
    let iid = iid_of(&w, "Cart total is wrong");

    // Both sides move: a developer comments and plans the issue in a
    // milestone Spira has no release for; a tester comments in Spira.
    w.gitlab
        .add_note_as("alice", iid, "Looking into it, rounding bug")
        .unwrap();
    w.set_milestone_as("alice", iid, "Sprint 42").await;
    w.spira.add_comment(id, tester, "<p>Seen again on 2.3</p>");
    w.advance(chrono::Duration::minutes(1));
    let releases_before = w.spira.releases(1).len();
    w.spira.reset_counts();
    ok(&w.labsync(&["sync"]).await);
    ok(&w.labsync(&["sync"]).await);

    let comments = w.spira.comments(id);
    assert!(
        comments.iter().all(|c| !c.text.contains("rounding bug")),
        "a GitLab note reached Spira: {comments:#?}"
    );
    assert_eq!(
        w.spira.releases(1).len(),
        releases_before,
        "a Spira release was made for a GitLab milestone: {:#?}",
        w.spira.releases(1)
    );
    assert_eq!(
        w.spira
            .request_count("POST /projects/{project_id}/incidents/{incident_id}/comments"),
        0
    );
    // Creates only: the release listing is a POST to releases/search.
    assert_eq!(
        w.spira
            .request_count("POST /projects/{project_id}/releases")
            - w.spira
                .request_count("POST /projects/{project_id}/releases/search"),
        0
    );
    // What may cross still does.
    let notes = w.gitlab.notes(iid);
    assert!(
        notes
            .iter()
            .any(|n| n["body"].as_str().unwrap().contains("Seen again on 2.3")),
        "{notes:#?}"
    );
    // The link-back, and nothing else, is written in Spira.
    let incident = w.spira.incident(id).unwrap();
    assert_eq!(
        incident.custom.get(&1).and_then(|v| v.as_str()),
        Some(format!("{}#{iid}", w.gitlab.project_path()).as_str())
    );
    assert_eq!(incident.resolved_release_id, None);
}

#[tokio::test]
async fn to_gitlab_still_makes_milestones_and_labels_in_gitlab() {
    let w = World::new("direction = \"to-gitlab\"").await;
    let release = add_release(&w, "9.9").await;
    let id = w.spira.add_incident(1, "Logo is blurry", 1);
    w.spira.edit_incident(id, |i| {
        i.resolved_release_id = Some(release);
        i.priority_id = Some(2);
    });
    ok(&w.labsync(&["sync"]).await);
    let issue = w.issue_titled("Logo is blurry");
    assert_eq!(issue["milestone"]["title"], "9.9", "{issue}");
    assert_eq!(issue["labels"], serde_json::json!(["priority::high"]));
}

#[tokio::test]
async fn to_test_management_never_writes_notes_labels_or_milestones_into_gitlab() {
    let w = World::new("direction = \"to-test-management\"").await;
    let iid = w
        .gitlab
        .create_issue_as("alice", "Search is slow", "Takes 9 s");
    ok(&w.labsync(&["sync"]).await);
    let incident = w.incident_named("Search is slow");
    let description = w.gitlab.issue(iid).unwrap()["description"].clone();

    // A tester comments, raises the priority and plans a release in Spira;
    // a developer comments in GitLab.
    let release = add_release(&w, "4.0").await;
    w.spira
        .add_comment(incident.incident_id, 1, "<p>Also slow on mobile</p>");
    w.spira.edit_incident(incident.incident_id, |i| {
        i.priority_id = Some(1);
        i.resolved_release_id = Some(release);
    });
    w.gitlab
        .add_note_as("alice", iid, "Index is missing")
        .unwrap();
    w.advance(chrono::Duration::minutes(1));
    w.gitlab.reset_counts();
    ok(&w.labsync(&["sync"]).await);
    ok(&w.labsync(&["sync"]).await);

    let notes = w.gitlab.notes(iid);
    assert!(
        notes
            .iter()
            .all(|n| !n["body"].as_str().unwrap().contains("Also slow on mobile")),
        "a Spira comment reached GitLab: {notes:#?}"
    );
    let writes: Vec<(String, u64)> = w
        .gitlab
        .request_counts()
        .into_iter()
        .filter(|(route, _)| !route.starts_with("GET") && !route.starts_with("HEAD"))
        .collect();
    assert_eq!(writes, vec![], "GitLab was written");
    let issue = w.gitlab.issue(iid).unwrap();
    assert_eq!(issue["labels"], serde_json::json!([]), "{issue}");
    assert!(issue["milestone"].is_null(), "{issue}");
    assert_eq!(
        issue["description"], description,
        "the issue text is untouched"
    );
    // What may cross still does.
    let comments = w.spira.comments(incident.incident_id);
    assert!(
        comments.iter().any(|c| c.text.contains("Index is missing")),
        "{comments:#?}"
    );
}
