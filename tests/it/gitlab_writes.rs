//! What GitLab does to the writes it is sent, reproduced by the simulator
//! (each test cites the GitLab source it follows), and the client surviving
//! it (../shared/reference/gitlab-api.md §16).

use std::time::Duration;

use labsync::gitlab::*;
use labsync::http::HttpSettings;
use labsync::secret::Secret;
use labsync_sim::Seed;
use labsync_sim::gitlab::{GitLabSim, GitLabSimConfig};
use serde_json::{Value, json};

fn settings() -> HttpSettings {
    HttpSettings {
        timeout: Duration::from_secs(10),
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        ..HttpSettings::default()
    }
}

async fn empty() -> (GitLabSim, GitLabClient, ProjectRef) {
    let sim = GitLabSim::start(GitLabSimConfig {
        seed: Seed::Empty,
        ..GitLabSimConfig::default()
    })
    .await
    .unwrap();
    let client = GitLabClient::new(&sim.url(), Secret::new(sim.token()), settings()).unwrap();
    let project = ProjectRef::parse(sim.project_path());
    (sim, client, project)
}

/// One raw request to the simulator's API: (status, JSON body).
async fn send(sim: &GitLabSim, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!(
        "{}/api/v4/projects/{}{path}",
        sim.url(),
        sim.project_path().replace('/', "%2F")
    );
    let mut req = reqwest::Client::new()
        .request(method.parse().unwrap(), url)
        .header("PRIVATE-TOKEN", sim.token());
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn label(name: &str) -> NewLabel {
    NewLabel {
        name: name.into(),
        color: "#428BCA".into(),
        description: None,
    }
}

/// gitlab-org/gitlab `lib/api/helpers/label_helpers.rb` (`find_label`):
/// `find_by_id(id_or_title) || find_by_title(id_or_title)`.
#[tokio::test]
async fn a_label_path_is_tried_as_an_id_first() {
    let (sim, gl, project) = empty().await;
    let first = gl.create_label(&project, &label("frontend")).await.unwrap();
    let named_like_id = first.id.to_string();
    let second = gl
        .create_label(&project, &label(&named_like_id))
        .await
        .unwrap();
    let (status, found) = send(&sim, "GET", &format!("/labels/{named_like_id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(found["name"], "frontend", "the id wins over the title");
    assert_ne!(found["id"], json!(second.id));
}

/// A label that exists already (409) is looked up by its exact title, not
/// through `GET .../labels/:name`, which may answer another label.
#[tokio::test]
async fn creating_an_existing_label_named_like_an_id_returns_that_label() {
    let (_sim, gl, project) = empty().await;
    let first = gl.create_label(&project, &label("frontend")).await.unwrap();
    let named_like_id = label(&first.id.to_string());
    let made = gl.create_label(&project, &named_like_id).await.unwrap();
    let again = gl.create_label(&project, &named_like_id).await.unwrap();
    assert_eq!(again.name, named_like_id.name);
    assert_eq!(again.id, made.id);
}

/// The description limit is 1,048,576 bytes, not characters: gitlab-org/gitlab
/// `app/models/concerns/issuable.rb` validates `description.bytesize`.
#[tokio::test]
async fn a_description_is_limited_in_bytes() {
    let (sim, _gl, _project) = empty().await;
    // 600,000 characters, 1,200,000 bytes.
    let wide = "é".repeat(600_000);
    let (status, body) = send(
        &sim,
        "POST",
        "/issues",
        Some(json!({"title": "wide", "description": wide})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]["description"]
            .to_string()
            .contains("too long"),
        "{body}"
    );
    let fits = "é".repeat(500_000);
    let (status, _) = send(
        &sim,
        "POST",
        "/issues",
        Some(json!({"title": "fits", "description": fits})),
    )
    .await;
    assert_eq!(status, 201);
}

/// Quick actions in a description run and their lines are removed, on create
/// and on update (gitlab-org/gitlab `app/services/issuable_base_service.rb`
/// `handle_quick_actions`, `app/services/quick_actions/interpret_service.rb`,
/// `lib/gitlab/quick_actions/extractor.rb`); `/close` and `/title` need an
/// existing issue (`lib/gitlab/quick_actions/issuable_actions.rb`).
#[tokio::test]
async fn quick_actions_in_descriptions_run_and_vanish() {
    let (sim, _gl, _project) = empty().await;
    let bob = sim.user_id("bob").unwrap();
    send(
        &sim,
        "POST",
        "/labels",
        Some(json!({"name": "bug", "color": "#ff0000"})),
    )
    .await;
    let (status, created) = send(
        &sim,
        "POST",
        "/issues",
        Some(json!({
            "title": "Pay fails",
            "description": "Steps\r\n/close\n/assign @bob\n/label ~bug\n\n```\n/close\n```\nEnd  \n"
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["description"], "Steps\n```\n/close\n```\nEnd");
    assert_eq!(created["state"], "opened", "/close needs an existing issue");
    assert_eq!(created["assignees"][0]["id"], json!(bob));
    assert_eq!(created["labels"], json!(["bug"]));
    let iid = created["iid"].as_u64().unwrap();
    let (_, edited) = send(
        &sim,
        "PUT",
        &format!("/issues/{iid}"),
        Some(json!({"description": "Now\n/close\n/title Checkout fails\n/unassign"})),
    )
    .await;
    assert_eq!(edited["description"], "Now");
    assert_eq!(edited["state"], "closed");
    assert_eq!(edited["title"], "Checkout fails");
    assert_eq!(edited["assignees"], json!([]));
    // An escaped line is text.
    let (_, edited) = send(
        &sim,
        "PUT",
        &format!("/issues/{iid}"),
        Some(json!({"description": "\\/reopen", "title": "Kept"})),
    )
    .await;
    assert_eq!(edited["description"], "\\/reopen");
    assert_eq!(edited["state"], "closed");
}

/// `assignee_ids` naming someone who may not be assigned is dropped silently
/// and the previous assignee stays; `[0]` unassigns (gitlab-org/gitlab
/// `app/services/issuable_base_service.rb`, `filter_assignees_using_checks`).
#[tokio::test]
async fn assignees_gitlab_may_not_assign_are_dropped_silently() {
    let (sim, _gl, _project) = empty().await;
    let bob = sim.user_id("bob").unwrap();
    let outsider = sim.add_user("olga", "Olga Outside", "olga@example.com");
    let (_, created) = send(
        &sim,
        "POST",
        "/issues",
        Some(json!({"title": "t", "assignee_ids": [bob]})),
    )
    .await;
    let iid = created["iid"].as_u64().unwrap();
    let path = format!("/issues/{iid}");
    for refused in [json!([outsider]), json!([987_654]), json!([outsider, bob])] {
        let (status, edited) =
            send(&sim, "PUT", &path, Some(json!({"assignee_ids": refused}))).await;
        assert_eq!(status, 200);
        assert_eq!(edited["assignees"][0]["id"], json!(bob), "{refused}");
    }
    let (_, edited) = send(&sim, "PUT", &path, Some(json!({"assignee_ids": [0]}))).await;
    assert_eq!(edited["assignees"], json!([]));
}
