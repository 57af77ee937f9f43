//! One stale or clashing mapping row never stops a project (issue 13,
//! item 5): a row naming someone or something Spira no longer has is a
//! warning for that field, a plugins.toml row wins over an `auto` row it
//! clashes with, and `labsync map` works on any database it can open.

use labsync_testkit::world;

use world::{Output, World};

fn ok(run: &Output) {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

/// The user table as `labsync map list --json` shows it: (spira, gitlab, source).
async fn users(w: &World) -> Vec<(String, String, String)> {
    let run = w.labsync(&["map", "list", "--json"]).await;
    ok(&run);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    v["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["spira"].as_str().unwrap().to_string(),
                r["gitlab"].as_str().unwrap().to_string(),
                r["source"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn row(spira: &str, gitlab: &str, source: &str) -> (String, String, String) {
    (spira.into(), gitlab.into(), source.into())
}

#[tokio::test]
async fn a_config_row_that_clashes_with_an_auto_row_replaces_it_and_nothing_stops() {
    let mut w = World::new("").await;
    let id = w.spira.add_incident(1, "Before the new row", 1);
    ok(&w.labsync(&["sync"]).await);
    assert!(
        users(&w).await.contains(&row("alice", "alice", "auto")),
        "auto-mapping paired alice with alice"
    );

    // The admin pairs Spira's carol with GitLab's alice in plugins.toml,
    // which the auto row alice ↔ alice holds.
    w.append_to_project(r#"users = [ { spira = "carol", gitlab = "alice" } ]"#);
    ok(&w.labsync(&["check", "--offline"]).await);
    let run = w.labsync(&["sync"]).await;
    ok(&run);
    assert!(
        run.stderr.contains("replaced") && run.stderr.contains("alice"),
        "the replacement is logged: {}",
        run.stderr
    );
    let table = users(&w).await;
    assert!(
        table.contains(&row("carol", "alice", "config")),
        "{table:?}"
    );
    assert!(!table.iter().any(|r| r.0 == "alice"), "{table:?}");

    // The config row is used: carol's incident is assigned to GitLab's alice.
    let carol = w.spira_user("carol");
    w.spira.edit_incident(id, |i| i.owner_id = Some(carol));
    w.advance(chrono::Duration::minutes(1));
    ok(&w.labsync(&["sync"]).await);
    assert_eq!(
        w.issue_titled("Before the new row")["assignees"][0]["username"],
        "alice"
    );

    // The other map commands work too.
    ok(&w
        .labsync(&["map", "user", "remove", "--spira", "bob"])
        .await);
    assert!(!users(&w).await.iter().any(|r| r.0 == "bob"));
}

#[tokio::test]
async fn a_user_row_naming_someone_spira_does_not_have_leaves_only_that_field() {
    let mut w = World::new("").await;
    w.append_to_project(r#"users = [ { spira = "ghost", gitlab = "bob" } ]"#);
    w.reload_config();
    let bob = w.spira_user("bob");
    let id = w.spira.add_incident(1, "Owned by a ghost's GitLab twin", 1);
    w.spira.edit_incident(id, |i| {
        i.priority_id = Some(2);
        i.owner_id = Some(bob);
    });
    let r = w.cycle().await;
    assert_eq!(r.totals().created_issues, 1, "{r:?}");
    let issue = w.issue_titled("Owned by a ghost's GitLab twin");
    assert_eq!(issue["labels"], serde_json::json!(["priority::high"]));
    assert_eq!(
        issue["assignees"],
        serde_json::json!([]),
        "bob has no usable row"
    );
    let warnings = r.stale_mappings().unwrap();
    assert!(
        warnings.len() == 1 && warnings[0].contains("user mapping 'ghost'"),
        "{warnings:?}"
    );

    // Later edits keep flowing.
    let iid = issue["iid"].as_u64().unwrap();
    w.gitlab
        .edit_issue_as("alice", iid, Some("Renamed in GitLab"), None);
    w.advance(chrono::Duration::minutes(1));
    w.cycle().await;
    assert_eq!(w.spira.incident(id).unwrap().name, "Renamed in GitLab");

    // `status` and `check` name the row.
    let status = w.labsync(&["status"]).await;
    ok(&status);
    assert!(status.stdout.contains("ghost"), "{}", status.stdout);
    let check = w.labsync(&["check"]).await;
    ok(&check);
    assert!(
        check
            .stdout
            .lines()
            .any(|l| l.starts_with("warning:") && l.contains("'ghost'")),
        "{}",
        check.stdout
    );
}

#[tokio::test]
async fn an_auto_release_row_whose_release_was_deleted_is_replaced_when_next_needed() {
    let mut w = World::new("").await;
    let now = chrono::Utc::now();
    let release = w
        .spira_client()
        .create_release(
            1,
            &labsync::spira::Release {
                name: "Release 7".into(),
                version_number: "7.0".into(),
                active: true,
                // Spira requires both to create a release (tests/it/spira_behaviour.rs).
                release_type_id: Some(1),
                release_status_id: Some(1),
                start_date: Some(now),
                end_date: Some(now + chrono::Duration::days(30)),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .release_id
        .unwrap();
    let id = w.spira.add_incident(1, "Fixed in 7", 1);
    w.spira
        .edit_incident(id, |i| i.resolved_release_id = Some(release));
    w.cycle().await;
    let iid = w.issue_titled("Fixed in 7")["iid"].as_u64().unwrap();
    assert_eq!(
        w.gitlab.issue(iid).unwrap()["milestone"]["title"],
        "Release 7"
    );

    // The release goes away in Spira; the issue is edited in GitLab.
    assert!(w.spira.delete_release(release));
    w.gitlab
        .edit_issue_as("alice", iid, Some("Fixed in 7 (renamed)"), None);
    w.advance(chrono::Duration::minutes(1));
    let r = w.cycle().await;
    assert_eq!(w.spira.incident(id).unwrap().name, "Fixed in 7 (renamed)");
    assert!(
        r.stale_mappings()
            .unwrap()
            .iter()
            .any(|w| w.contains(&format!("release mapping '{release}'"))),
        "{r:?}"
    );
    // The milestone has a release again, and the table says which.
    let rows = w
        .store
        .mappings(labsync::store::mappings::Kind::Release, None, None)
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let now_mapped: u32 = rows[0].tm_value.parse().unwrap();
    assert_ne!(now_mapped, release);
    assert!(
        w.spira
            .releases(1)
            .iter()
            .any(|r| r.release_id == now_mapped)
    );
    assert_eq!(
        w.spira.incident(id).unwrap().resolved_release_id,
        Some(now_mapped)
    );
    // And the next cycle has nothing stale left to warn about.
    w.advance(chrono::Duration::minutes(1));
    let r = w.cycle().await;
    assert!(r.stale_mappings().unwrap_or_default().is_empty(), "{r:?}");
}
