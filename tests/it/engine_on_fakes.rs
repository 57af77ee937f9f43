//! The engine on the in-memory connectors: the fakes are engine-usable
//! (a tester's incident becomes an issue, its link is written back, and a
//! second cycle writes nothing), as the engine's behaviour tests need.

use labsync::config::Config;
use labsync::store::Store;
use labsync::sync::connector::{Endpoints, IssueTracker, TestManagement, TmEdit};
use labsync::sync::{RunOptions, STOP_GRACE, run};
use labsync_testkit::memory::{MemoryClock, MemoryIssueTracker, MemoryTestManagement};

const CONFIG: &str = r#"
[[plugins]]
name = "fakes"
[plugins.spira]
base_url = "https://spira.invalid"
login = "administrator"
api_key = "{00000000-0000-0000-0000-000000000000}"
[plugins.gitlab]
base_url = "https://gitlab.invalid"
token = "glpat-fakes"
[[plugins.projects]]
spira_project = 1
gitlab_project = "demo/webshop"
statuses = [
  { spira = "New", gitlab = "opened", primary = true },
  { spira = "Closed", gitlab = "closed", primary = true },
]
priorities = [
  { spira = "1 - Critical", gitlab = "priority::critical" },
]
"#;

fn options() -> RunOptions {
    RunOptions {
        trigger: "sync-now",
        dry_run: false,
        stop_grace: STOP_GRACE,
        stop: None,
        progress: None,
    }
}

#[tokio::test]
async fn an_incident_becomes_an_issue_and_the_next_cycle_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_str(&dir.path().join("plugins.toml"), CONFIG).unwrap();
    let plugin = &config.plugins[0];
    let mut store = Store::open(&dir.path().join("labsync.db")).unwrap();
    store.apply_config(&config).unwrap();
    let clock = MemoryClock::default();
    let tm = MemoryTestManagement::new(clock.clone());
    let tracker = MemoryIssueTracker::new(clock.clone());
    tm.setup(1).await.unwrap();
    let filed = TmEdit {
        title: Some("Checkout button does nothing".into()),
        description: Some("<p>Click it: nothing.</p>".into()),
        ..TmEdit::default()
    };
    let incident = tm.create(1, &filed).await.unwrap();
    clock.advance(chrono::Duration::minutes(1));
    let sides = || Endpoints {
        tm: &tm,
        tracker: &tracker,
    };

    let first = run(plugin, Ok(sides()), &mut store, &options()).await;
    assert_eq!(first.totals().created_issues, 1, "{first:?}");
    let issues = tracker
        .created_by_me_since(MemoryIssueTracker::PROJECT, incident.updated_at.unwrap())
        .await
        .unwrap();
    let issue = issues
        .iter()
        .find(|i| i.title == "Checkout button does nothing")
        .expect("no issue made");
    assert_eq!(issue.marker, Some((1, incident.id.unwrap())));
    let linked = tm.get(1, incident.id.unwrap()).await.unwrap();
    assert!(linked.marker.is_some(), "no link back on the incident");

    clock.advance(chrono::Duration::minutes(5));
    let second = run(plugin, Ok(sides()), &mut store, &options()).await;
    let t = second.totals();
    assert_eq!(
        (
            t.created_issues,
            t.created_incidents,
            t.updated_issues,
            t.updated_incidents,
            t.failed
        ),
        (0, 0, 0, 0, 0),
        "{second:?}"
    );
}
