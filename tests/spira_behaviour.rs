//! The engine against Spira's behaviours that Inflectra's own clients and
//! docs show (../shared/reference/spira-api.md §13), end to end.

mod world;

use labsync::gitlab::{IssueEdit, NewMilestone, ProjectRef};
use world::World;

/// A GitLab issue in milestone `title` (created when missing), as alice.
async fn issue_in_milestone(w: &World, issue: &str, title: &str) -> u64 {
    let maintainer = w.gitlab_as("alice");
    let project = ProjectRef::parse(w.gitlab.project_path());
    let milestone = maintainer
        .create_milestone(
            &project,
            &NewMilestone {
                title: title.into(),
                ..NewMilestone::default()
            },
        )
        .await
        .unwrap();
    let iid = w.gitlab.create_issue_as("alice", issue, "steps");
    maintainer
        .edit_issue(
            &project,
            iid,
            &IssueEdit {
                milestone_id: Some(milestone.id),
                ..IssueEdit::default()
            },
        )
        .await
        .unwrap();
    iid
}

/// §13 rows 1-2: Inflectra's GitLab plug-in makes its releases as
/// iterations, which `GET releases` leaves out. A milestone named like one
/// links to it instead of making a second release of the same name.
#[tokio::test]
async fn a_milestone_named_like_a_spira_iteration_links_to_it() {
    let mut w = World::new("").await;
    let sprint = w.spira.add_release(1, "Sprint 5", "5", 3);
    issue_in_milestone(&w, "Login loops", "Sprint 5").await;
    let r = w.cycle().await;
    assert_eq!(r.totals().failed, 0, "{r:?}");
    let incident = w.incident_named("Login loops");
    assert_eq!(incident.resolved_release_id, Some(sprint));
    let named: Vec<_> = w
        .spira
        .releases(1)
        .into_iter()
        .filter(|r| r.name == "Sprint 5")
        .collect();
    assert_eq!(named.len(), 1, "no duplicate release: {named:#?}");
}

/// §13 row 1: a new milestone makes a release that Spira accepts (type and
/// status sent), with the configured type and status.
#[tokio::test]
async fn a_new_milestone_makes_a_release_of_the_configured_type_and_status() {
    let mut w = World::new("").await;
    issue_in_milestone(&w, "Cart empties", "Sprint 10").await;
    let r = w.cycle().await;
    assert_eq!(r.totals().failed, 0, "{r:?}");
    let incident = w.incident_named("Cart empties");
    let release = w
        .spira
        .releases(1)
        .into_iter()
        .find(|r| r.name == "Sprint 10")
        .expect("a release for the milestone");
    assert_eq!(incident.resolved_release_id, Some(release.release_id));
    assert_eq!(release.release_type_id, 3, "iteration by default");
    assert_eq!(release.release_status_id, 1, "planned by default");
}
