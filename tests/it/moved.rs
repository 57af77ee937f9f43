//! An issue moved to another project: GitLab keeps the original, closed,
//! with `moved_to_id` (app/services/issues/move_service.rb). That close is
//! not the incident's, and later edits must not land on the dead original.

use labsync_testkit::world;

use world::World;

/// Moves issue `iid` of the main project to project `to`, as its maintainer.
async fn move_issue(w: &World, iid: u64, to: u64) {
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/api/v4/projects/{}/issues/{iid}/move",
            w.gitlab.url(),
            w.gitlab.project_id()
        ))
        .header("PRIVATE-TOKEN", w.gitlab.token())
        .json(&serde_json::json!({ "to_project_id": to }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
}

fn orphan_reason(w: &World) -> Option<String> {
    let conn = rusqlite::Connection::open(w.store.path()).unwrap();
    conn.query_row("SELECT orphaned FROM links", [], |r| r.get(0))
        .unwrap()
}

/// A pair, then its issue moved to a project labsync does not sync.
async fn moved_pair(title: &str) -> (World, u32, u64) {
    let mut w = World::new("").await;
    let id = w.spira.add_incident(1, title, 1);
    w.cycle().await;
    let iid = w.issue_titled(title)["iid"].as_u64().unwrap();
    let archive = w.gitlab.add_project("demo/archive");
    w.advance(chrono::Duration::minutes(2));
    move_issue(&w, iid, archive).await;
    w.advance(chrono::Duration::minutes(3));
    (w, id, iid)
}

#[tokio::test]
async fn a_move_elsewhere_orphans_the_link_and_closes_nothing() {
    let (mut w, id, _) = moved_pair("Moves away").await;
    let status = w.spira.incident(id).unwrap().incident_status_id;
    let r = w.cycle().await;
    assert_eq!(r.totals().orphaned, 1, "{r:?}");
    assert_eq!(r.totals().updated_incidents, 0, "{r:?}");
    assert_eq!(
        w.spira.incident(id).unwrap().incident_status_id,
        status,
        "the move closed the original, not the incident"
    );
    let reason = orphan_reason(&w).unwrap_or_default();
    // The whole path: GitLab's note says "moved to archive#1" (same namespace).
    assert!(reason.contains("moved to demo/archive#1"), "{reason}");
    // Nothing is made for it on either side, now or later.
    w.advance(chrono::Duration::minutes(3));
    let r = w.cycle().await;
    assert_eq!(r.totals().writes(), 0, "{r:?}");
    assert_eq!(w.spira.incidents(1).len(), 1);
    assert_eq!(w.gitlab.issues().len(), 1, "only the closed original");
}

#[tokio::test]
async fn an_incident_edited_after_the_move_is_not_written_to_the_original() {
    let (mut w, id, iid) = moved_pair("Edited after the move").await;
    let status = w.spira.incident(id).unwrap().incident_status_id;
    w.spira
        .edit_incident(id, |i| i.name = "Renamed in Spira".into());
    let r = w.cycle().await;
    assert_eq!(r.totals().orphaned, 1, "{r:?}");
    assert_eq!(r.totals().updated_issues, 0, "{r:?}");
    let original = w.gitlab.issue(iid).unwrap();
    assert_eq!(original["title"], "Edited after the move");
    assert_eq!(w.spira.incident(id).unwrap().name, "Renamed in Spira");
    assert_eq!(w.spira.incident(id).unwrap().incident_status_id, status);
    assert!(
        orphan_reason(&w)
            .unwrap_or_default()
            .contains("moved to demo/archive#1")
    );
}
