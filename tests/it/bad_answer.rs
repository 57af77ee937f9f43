//! Bad data about one item stops that item, not its project (issue 13,
//! item 4): through the binary, as an operator sees it.

use labsync_testkit::world;

use world::World;

#[tokio::test]
async fn an_incident_answered_without_its_id_is_queued_and_the_others_sync() {
    let w = World::new("").await;
    w.spira.add_incident(1, "A fine defect", 1);
    let bad = w.spira.add_incident(1, "A defect Spira answers badly", 1);
    w.gitlab.create_issue_as("alice", "A fine issue", "text");
    w.spira.withhold_incident_id(bad, true);

    let run = w.labsync(&["sync"]).await;
    assert_eq!(
        run.code, 1,
        "one failed item is exit 1, not a project failure (2)\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        !run.stderr.contains("project not synced") && !run.stderr.contains("project stopped"),
        "{}",
        run.stderr
    );
    // Everything else crossed.
    let titles: Vec<String> = w
        .gitlab
        .issues()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect();
    assert!(titles.contains(&"A fine defect".to_string()), "{titles:?}");
    assert!(!titles.contains(&"A defect Spira answers badly".to_string()));
    assert!(
        w.spira
            .incidents(1)
            .iter()
            .any(|i| i.name == "A fine issue")
    );

    // The bad item waits in the queue, named, with the missing field.
    let status = w.labsync(&["status", "--errors", "--json"]).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v}");
    let cause = errors[0]["cause"].as_str().unwrap();
    assert!(
        cause.contains("IncidentId") && cause.contains("A defect Spira answers badly"),
        "{cause}"
    );
    assert_eq!(errors[0]["side"], "spira");

    // Once Spira answers properly again, the item syncs and leaves the queue.
    w.spira.withhold_incident_id(bad, false);
    let again = w.labsync(&["sync"]).await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(
        w.issue_titled("A defect Spira answers badly")["state"],
        "opened"
    );
    let status = w.labsync(&["status", "--errors", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["errors"], serde_json::json!([]), "{v}");
}

/// A release Spira created for a milestone, answered without its id: the
/// issue that needed it fails and waits; the rest of the project syncs, and
/// once answers are whole again the issue finds the release made the first
/// time instead of making another.
#[tokio::test]
async fn a_release_created_without_its_id_fails_only_the_issue_that_needed_it() {
    let mut w = World::new("").await;
    let dev = w.gitlab_as("alice");
    let project = labsync::gitlab::ProjectRef::parse(w.gitlab.project_path());
    let sprint = dev
        .create_milestone(
            &project,
            &labsync::gitlab::NewMilestone {
                title: "Sprint 5".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let planned = w
        .gitlab
        .create_issue_as("alice", "Planned in sprint 5", "x");
    dev.edit_issue(
        &project,
        planned,
        &labsync::gitlab::IssueEdit {
            milestone_id: Some(sprint.id),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    w.gitlab.create_issue_as("alice", "Not planned", "y");
    w.spira.withhold_created_release_id(true);

    // `cycle` fails the test if the project stopped.
    let r = w.cycle().await;
    assert_eq!(r.totals().failed, 1, "{r:?}");
    assert_eq!(r.totals().created_incidents, 1, "{r:?}");
    let failure = &r.projects[0].failures[0];
    assert!(
        failure.contains(&format!("issue #{planned}"))
            && failure.contains("ReleaseId")
            && failure.contains("Sprint 5"),
        "{failure}"
    );
    w.incident_named("Not planned");

    w.spira.withhold_created_release_id(false);
    w.advance(chrono::Duration::minutes(1));
    let r = w.cycle().await;
    assert_eq!(r.totals().failed, 0, "{r:?}");
    let releases: Vec<u32> = w
        .spira
        .releases(1)
        .iter()
        .filter(|r| r.name == "Sprint 5")
        .map(|r| r.release_id)
        .collect();
    assert_eq!(releases.len(), 1, "one release for the milestone");
    assert_eq!(
        w.incident_named("Planned in sprint 5").resolved_release_id,
        Some(releases[0])
    );
}
