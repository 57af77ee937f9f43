//! Bad data about one item stops that item, not its project (issue 13,
//! item 4): through the binary, as an operator sees it.

mod world;

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
