//! Work items of other types share the tracker's item list.

use super::{Fakes, TM_PROJECT};

/// Tasks, test cases and incidents come in the same listing as issues
/// (gitlab-api.md §16 #9); only the types the plugin names are synced
/// ("issue" and "incident" unless `gitlab_issue_types` says otherwise):
/// a developer's task never becomes a tester's incident.
#[tokio::test]
async fn only_the_work_item_types_the_plugin_names_are_synced() {
    let mut f = Fakes::new("").await;
    for (title, kind) in [
        ("A plain issue", "issue"),
        ("An outage", "incident"),
        ("A developer's task", "task"),
        ("A test case", "test_case"),
    ] {
        f.tracker
            .create_work_item_as("alice", title, "", kind)
            .unwrap();
    }
    f.later(2);
    let r = f.cycle().await;
    assert_eq!(r.totals().failed, 0, "{r:?}");
    let mut made: Vec<String> =
        f.tm.items(TM_PROJECT)
            .into_iter()
            .map(|i| i.title)
            .collect();
    made.sort();
    assert_eq!(made, ["A plain issue", "An outage"]);

    let mut f = Fakes::new(r#"gitlab_issue_types = ["task"]"#).await;
    f.tracker
        .create_work_item_as("alice", "A task", "", "task")
        .unwrap();
    f.tracker.create_as_person("alice", "An issue", "");
    f.later(2);
    f.cycle().await;
    let made: Vec<String> =
        f.tm.items(TM_PROJECT)
            .into_iter()
            .map(|i| i.title)
            .collect();
    assert_eq!(made, ["A task"]);
}
