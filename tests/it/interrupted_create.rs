//! A create whose answer never arrives, against a GitLab whose `search`
//! cannot see labsync's marker (it sits in an HTML comment, which GitLab's
//! full-text search never indexes): the next cycle must find the issue it
//! made, not make another one.

use labsync_testkit::world;

use world::World;

const CREATE: &str = "POST /api/v4/projects/{id}/issues";
const LIST: &str = "GET /api/v4/projects/{id}/issues";

#[tokio::test]
async fn a_lost_create_answer_is_settled_by_listing_not_by_search() {
    let mut w = World::new("").await;
    w.spira.add_incident(1, "Answer lost on the way back", 1);
    // GitLab creates the issue, then the connection drops; the cycle ends
    // before it reads GitLab's side (as when the daemon is killed there).
    w.gitlab.faults().drop_next(CREATE, 1);
    w.gitlab.faults().set_route(
        LIST,
        labsync_sim::faults::FaultRule {
            error_rate: 1.0,
            ..Default::default()
        },
    );
    let first = w.cycle_that_may_fail().await;
    assert_eq!(first.totals().created_issues, 0, "{first:?}");
    assert_eq!(w.gitlab.issues().len(), 1, "GitLab kept the issue");
    w.gitlab.faults().clear();
    // The simulator's search is GitLab's: the marker cannot be found by it.
    let by_search: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v4/projects/1/issues", w.gitlab.url()))
        .query(&[
            ("search", "<!-- labsync:incident=1/1 -->"),
            ("in", "description"),
        ])
        .header("PRIVATE-TOKEN", w.gitlab.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_search, serde_json::json!([]));

    for _ in 0..2 {
        w.advance(chrono::Duration::minutes(3));
        let r = w.cycle().await;
        assert_eq!(r.totals().failed, 0, "{r:?}");
    }
    let issues = w.gitlab.issues();
    assert_eq!(issues.len(), 1, "one issue: {issues:#?}");
    assert_eq!(w.spira.incidents(1).len(), 1, "one incident");
    w.assert_converged();
}
