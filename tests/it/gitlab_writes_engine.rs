//! The engine against what GitLab does to its writes: descriptions limited
//! in bytes, quick actions in descriptions, assignees GitLab drops, text
//! typed below labsync's footer (../shared/reference/gitlab-api.md §16).

use labsync_testkit::world;

use world::World;

/// GitLab limits a description to 1,048,576 bytes (`bytesize`,
/// gitlab-org/gitlab `app/models/concerns/issuable.rb`): a multibyte text
/// under the limit in characters but over it in bytes is cut, not refused.
#[tokio::test]
async fn a_multibyte_description_over_the_byte_limit_is_cut_at_a_character() {
    let mut w = World::new("").await;
    // 700,000 characters, 1,400,000 bytes.
    let description = format!("<p>{}</p>", "é".repeat(700_000));
    let id = w.spira.add_incident(1, "Accents everywhere", 1);
    w.spira
        .edit_incident(id, |i| i.description = description.clone());
    let r = w.cycle().await;
    assert_eq!(
        (r.totals().created_issues, r.totals().failed),
        (1, 0),
        "{r:?}"
    );
    let issue = w.issue_titled("Accents everywhere");
    let gl_desc = issue["description"].as_str().unwrap();
    assert!(gl_desc.len() <= 1_048_576, "{} bytes", gl_desc.len());
    assert!(gl_desc.contains("the description was cut here"));
    assert!(
        gl_desc
            .trim_end()
            .ends_with(&format!("labsync:incident=1/{id} -->"))
    );
    // The cut copy is not an edit: Spira keeps the whole text.
    w.advance(chrono::Duration::minutes(5));
    let r = w.cycle().await;
    assert_eq!(r.totals().writes(), 0, "{r:?}");
    assert_eq!(w.spira.incident(id).unwrap().description, description);
}

/// GitLab's editor puts new text at the end, below labsync's footer: it is
/// synced like any other text, and the footer goes back to the end.
#[tokio::test]
async fn text_typed_below_the_footer_reaches_spira_and_stays_in_gitlab() {
    let mut w = World::new("").await;
    let id = w.spira.add_incident(1, "Cart empties itself", 1);
    w.spira
        .edit_incident(id, |i| i.description = "<p>Add two items.</p>".into());
    w.cycle().await;
    let issue = w.issue_titled("Cart empties itself");
    let iid = issue["iid"].as_u64().unwrap();
    let typed = format!(
        "{}\nAlso fails on Firefox.",
        issue["description"].as_str().unwrap()
    );
    let alice = w.gitlab_as("alice");
    let project = labsync::gitlab::ProjectRef::parse(w.gitlab.project_path());
    let edit = labsync::gitlab::IssueEdit {
        description: Some(typed),
        ..Default::default()
    };
    alice.edit_issue(&project, iid, &edit).await.unwrap();
    w.advance(chrono::Duration::minutes(2));
    w.cycle().await;
    let spira_text = w.spira.incident(id).unwrap().description;
    assert!(
        spira_text.contains("Add two items.") && spira_text.contains("Also fails on Firefox."),
        "{spira_text}"
    );
    // A later Spira edit keeps the line in GitLab, above the footer.
    w.advance(chrono::Duration::minutes(2));
    w.spira.edit_incident(id, |i| {
        i.description = format!("{}<p>Also on Chrome.</p>", i.description)
    });
    w.cycle().await;
    let desc = w.gitlab.issue(iid).unwrap()["description"]
        .as_str()
        .unwrap()
        .to_string();
    let firefox = desc.find("Also fails on Firefox.").expect(&desc);
    let chrome = desc.find("Also on Chrome.").expect(&desc);
    let marker = desc.find("labsync:incident=").expect(&desc);
    assert!(firefox < chrome && chrome < marker, "{desc}");
    assert_eq!(desc.matches("labsync:incident=").count(), 1, "{desc}");
    // Nothing churns afterwards.
    w.advance(chrono::Duration::minutes(10));
    w.cycle().await;
    w.advance(chrono::Duration::minutes(10));
    let r = w.cycle().await;
    assert_eq!(r.totals().writes(), 0, "{r:?}");
}

/// Lines copied from Spira that GitLab would run as quick actions (and
/// remove: gitlab-org/gitlab `lib/gitlab/quick_actions/extractor.rb`) are
/// sent defused: they neither run in GitLab nor vanish from Spira.
#[tokio::test]
async fn command_lines_from_spira_neither_run_in_gitlab_nor_vanish() {
    let mut w = World::new("").await;
    let html = "<p>Steps to reproduce</p><p>/close</p><p>/assign @bob</p>";
    let id = w.spira.add_incident(1, "Commands in text", 1);
    w.spira.edit_incident(id, |i| i.description = html.into());
    w.cycle().await;
    let issue = w.issue_titled("Commands in text");
    let iid = issue["iid"].as_u64().unwrap();
    assert_eq!(issue["state"], "opened");
    assert_eq!(issue["assignees"], serde_json::json!([]));
    let desc = issue["description"].as_str().unwrap();
    assert!(
        desc.contains("/close") && desc.contains("/assign @bob"),
        "{desc}"
    );
    // An edit in Spira with more commands: nothing runs, nothing vanishes.
    w.advance(chrono::Duration::minutes(2));
    let edited = format!("{html}<p>/title Hijacked</p><p>/close</p>");
    w.spira
        .edit_incident(id, |i| i.description = edited.clone());
    w.cycle().await;
    let issue = w.gitlab.issue(iid).unwrap();
    assert_eq!(issue["title"], "Commands in text");
    assert_eq!(issue["state"], "opened");
    assert!(
        issue["description"]
            .as_str()
            .unwrap()
            .contains("/title Hijacked")
    );
    for _ in 0..2 {
        w.advance(chrono::Duration::minutes(10));
        w.cycle().await;
    }
    let incident = w.spira.incident(id).unwrap();
    assert_eq!(incident.description, edited, "Spira's text is unchanged");
    assert_eq!(incident.owner_id, None);
    w.advance(chrono::Duration::minutes(10));
    let r = w.cycle().await;
    assert_eq!(r.totals().writes(), 0, "{r:?}");
}

/// GitLab drops an assignee it may not assign and keeps the previous one
/// (gitlab-org/gitlab `app/services/issuable_base_service.rb`,
/// `filter_assignees_using_checks`). What GitLab kept is not a GitLab edit:
/// Spira's owner stays, a warning is recorded once, nothing churns.
#[tokio::test]
async fn an_owner_gitlab_will_not_assign_is_not_reverted_in_spira() {
    use labsync::store::mappings::{Kind, MappingRow, Source};
    let mut w = World::new("").await;
    w.gitlab
        .add_user("olga", "Olga Outside", "olga@example.com");
    let olga = w
        .spira
        .add_user("olga", "Olga", "Outside", "olga@spira.test");
    w.store
        .add_mapping(
            Kind::User,
            &MappingRow {
                plugin: "t".into(),
                tm_project: 1,
                tm_value: "olga".into(),
                tracker_value: "olga".into(),
                primary: false,
                source: Source::Cli,
            },
        )
        .unwrap();
    let bob = w.spira_user("bob");
    let id = w.spira.add_incident(1, "Owner outside the project", 1);
    w.spira.edit_incident(id, |i| i.owner_id = Some(bob));
    w.cycle().await;
    let iid = w.issue_titled("Owner outside the project")["iid"]
        .as_u64()
        .unwrap();
    w.advance(chrono::Duration::minutes(2));
    w.spira.edit_incident(id, |i| i.owner_id = Some(olga));
    w.cycle().await;
    let issue = w.gitlab.issue(iid).unwrap();
    assert_eq!(issue["assignees"][0]["username"], "bob", "GitLab kept bob");
    for _ in 0..3 {
        w.advance(chrono::Duration::minutes(10));
        w.cycle().await;
    }
    assert_eq!(
        w.spira.incident(id).unwrap().owner_id,
        Some(olga),
        "Spira's owner is not reverted"
    );
    let conn = rusqlite::Connection::open(w.store.path()).unwrap();
    let warned: i64 = conn
        .query_row(
            "SELECT count(*) FROM events WHERE action = 'refused' AND field = 'assignee'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(warned, 1, "warned once");
    w.advance(chrono::Duration::minutes(10));
    w.gitlab.reset_counts();
    let r = w.cycle().await;
    assert_eq!(r.totals().writes(), 0, "{r:?}");
    assert_eq!(w.gitlab.request_count("PUT"), 0);
}
