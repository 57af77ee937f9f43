//! The engine against Spira's behaviours that Inflectra's own clients and
//! docs show (../shared/reference/spira-api.md §13), end to end.

use labsync_testkit::world;

use world::World;

/// A GitLab issue in milestone `title` (created when missing), as alice.
async fn issue_in_milestone(w: &World, issue: &str, title: &str) -> u64 {
    let iid = w.gitlab.create_issue_as("alice", issue, "steps");
    w.set_milestone_as("alice", iid, title).await;
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

/// §13 rows 8-9: a workflow that requires an owner to close an incident
/// refuses the status change with a ValidationFaultMessage. The item fails
/// with the field named, is queued (not retried within the cycle), and the
/// project goes on.
#[tokio::test]
async fn a_status_change_the_workflow_refuses_is_an_item_error_naming_the_field() {
    let mut w = World::new("").await;
    let id = w.spira.add_incident(1, "Crash on save", 1);
    w.spira.add_incident(1, "Typo on home page", 1);
    w.cycle().await;
    let iid = w.issue_titled("Crash on save")["iid"].as_u64().unwrap();
    // Closed (5), the primary status of "closed", needs an owner.
    w.spira.require_for_status(5, "OwnerId");
    w.advance(chrono::Duration::minutes(5));
    w.gitlab.edit_issue_as("alice", iid, None, Some(false));
    // By title: the two issues are created concurrently, in either order.
    let other = w.issue_titled("Typo on home page")["iid"].as_u64().unwrap();
    w.gitlab
        .edit_issue_as("alice", other, Some("Typo on the home page"), None);
    w.spira.reset_counts();
    let r = w.cycle().await;
    assert_eq!(r.totals().failed, 1, "{r:?}");
    let failure = &r.projects[0].failures[0];
    assert!(failure.contains("OwnerId"), "{failure}");
    assert!(failure.contains("required"), "{failure}");
    assert_eq!(
        w.spira
            .request_count("PUT /projects/{project_id}/incidents/{incident_id}"),
        2,
        "one refused PUT, not retried, and the other item's edit"
    );
    assert_eq!(
        w.incident_named("Typo on the home page").incident_status_id,
        1
    );
    assert_eq!(w.spira.incident(id).unwrap().incident_status_id, 1, "kept");
    let queued = w.store.queued_errors("t", 1).unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert!(queued[0].cause.contains("OwnerId"), "{queued:?}");
}

/// §13 row 8: refused credentials may come back as 404 "Access Denied"
/// (API-Overview, "Common Error Messages"): that stops the project as bad
/// credentials, it is not an item that was not found.
#[tokio::test]
async fn access_denied_as_404_is_refused_credentials() {
    let mut w = World::new("").await;
    w.spira.add_incident(1, "Crash on save", 1);
    w.spira.set_access_denied_as_404(true);
    let text = w
        .text
        .replace(w.spira.api_key(), "{00000000-0000-0000-0000-000000000000}");
    w.config =
        labsync::config::Config::from_str(std::path::Path::new("plugins.toml"), &text).unwrap();
    let r = w.plan().await;
    let fatal = r.projects[0].fatal.as_deref().unwrap_or("");
    assert!(fatal.contains("refused access"), "{r:?}");
}

/// §13 row 6: Spira strips dangerous HTML (here a `javascript:` link) from
/// what labsync writes. Its cleaning is not an edit: the GitLab text stays
/// as written, and nothing moves on later cycles.
#[tokio::test]
async fn spira_cleaning_a_description_is_not_an_edit() {
    let mut w = World::new("").await;
    let text = "Open [the form](javascript:alert(1)) and press **Pay**";
    let iid = w.gitlab.create_issue_as("alice", "Pay button dead", text);
    w.cycle().await;
    let incident = w.incident_named("Pay button dead");
    assert!(
        !incident.description.contains("javascript:"),
        "{incident:?}"
    );
    assert!(incident.description.contains("<strong>Pay</strong>"));
    for _ in 0..2 {
        w.advance(chrono::Duration::minutes(5));
        let r = w.cycle().await;
        assert_eq!(r.totals().writes(), 0, "{r:?}");
    }
    let issue = w.gitlab.issue(iid).unwrap();
    assert!(
        issue["description"].as_str().unwrap().starts_with(text),
        "{issue}"
    );
}
