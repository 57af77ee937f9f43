//! Several items of one project synced at once (`concurrency`): what they
//! share is created once, and what people see does not depend on the order
//! items happen to finish in.

use labsync::sync::plan::PlannedWrite;
use labsync_testkit::world;

use labsync::gitlab::{IssueEdit, NewMilestone, ProjectRef};
use labsync::spira::Release;
use world::World;

const ITEMS: usize = 24;

/// Two dozen new incidents name one Spira release that has no milestone yet;
/// two dozen new issues name one milestone that has no release yet. Synced eight at a time, each
/// counterpart is created exactly once and every item points at it.
#[tokio::test]
async fn items_in_flight_together_create_each_counterpart_once() {
    let mut w = World::new("concurrency = 8\ncomment_sweep = \"off\"").await;
    let now = chrono::Utc::now();
    let release = w
        .spira_client()
        .create_release(
            1,
            &Release {
                name: "Release 7".into(),
                version_number: "7.0".into(),
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
        .unwrap();
    for i in 0..ITEMS {
        let id = w.spira.add_incident(1, &format!("Crash {i}"), 1);
        w.spira.edit_incident(id, |inc| {
            inc.resolved_release_id = Some(release);
        });
    }
    let maintainer = w.gitlab_as("alice");
    let project = ProjectRef::parse(w.gitlab.project_path());
    let sprint = maintainer
        .create_milestone(
            &project,
            &NewMilestone {
                title: "Sprint 9".into(),
                ..NewMilestone::default()
            },
        )
        .await
        .unwrap();
    for i in 0..ITEMS {
        let iid = w
            .gitlab
            .create_issue_as("alice", &format!("Typo {i}"), "steps");
        maintainer
            .edit_issue(
                &project,
                iid,
                &IssueEdit {
                    milestone_id: Some(sprint.id),
                    ..IssueEdit::default()
                },
            )
            .await
            .unwrap();
    }
    w.gitlab.reset_counts();
    w.spira.reset_counts();

    let r = w.cycle().await;
    let totals = r.totals();
    assert_eq!(totals.created_issues, ITEMS, "{r:?}");
    assert_eq!(totals.created_incidents, ITEMS, "{r:?}");
    assert_eq!(totals.failed, 0, "{r:?}");

    assert_eq!(
        w.gitlab
            .request_count("POST /api/v4/projects/{id}/milestones"),
        1,
        "one milestone for the release, however many items needed it"
    );
    let releases: Vec<_> = w
        .spira
        .releases(1)
        .into_iter()
        .filter(|r| r.name == "Sprint 9")
        .collect();
    assert_eq!(releases.len(), 1, "one release for the milestone");
    let sprint_release = releases[0].release_id;

    for i in 0..ITEMS {
        let issue = w.issue_titled(&format!("Crash {i}"));
        assert_eq!(issue["milestone"]["title"], "Release 7", "{issue:#}");
        let incident = w.incident_named(&format!("Typo {i}"));
        assert_eq!(incident.resolved_release_id, Some(sprint_release));
    }
    w.assert_converged();
}

/// A dry run reads items several at a time, but its plan lists them in the
/// order they were listed (oldest change first), not in the order the reads
/// happened to finish.
#[tokio::test]
async fn a_plan_lists_items_in_the_order_they_changed() {
    let mut w = World::new("concurrency = 8").await;
    let ids: Vec<u32> = (0..ITEMS)
        .map(|i| w.spira.add_incident(1, &format!("Report {i}"), 1))
        .collect();
    let r = w.plan().await;
    let planned = &r.projects[0].planned;
    let order: Vec<&PlannedWrite> = planned
        .iter()
        .filter(|w| matches!(w, PlannedWrite::CreateIssue { .. }))
        .collect();
    let expected: Vec<PlannedWrite> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| PlannedWrite::CreateIssue {
            incident: i64::from(*id),
            title: format!("Report {i}"),
        })
        .collect();
    let expected: Vec<&PlannedWrite> = expected.iter().collect();
    assert_eq!(order, expected);
    assert!(w.gitlab.issues().is_empty(), "a plan writes nothing");
}
