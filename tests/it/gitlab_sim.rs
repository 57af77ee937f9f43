//! The simulator seen through raw HTTP: the exact shapes, headers and quirks
//! of GitLab that clients depend on (../shared/reference/gitlab-api.md).

use std::time::Duration;

use labsync_sim::Seed;
use labsync_sim::gitlab::{GitLabSim, GitLabSimConfig};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

struct Answer {
    status: u16,
    headers: HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

async fn send(
    sim: &GitLabSim,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let client = reqwest::Client::new();
    let url = format!("{}/api/v4{}", sim.url(), path);
    let mut req = client.request(method.parse().unwrap(), url);
    if let Some(t) = token {
        req = req.header("PRIVATE-TOKEN", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    Answer {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        text: resp.text().await.unwrap(),
    }
}

async fn get(sim: &GitLabSim, path: &str) -> Answer {
    send(sim, "GET", path, Some(sim.token()), None).await
}

async fn demo() -> GitLabSim {
    GitLabSim::start(GitLabSimConfig::default()).await.unwrap()
}

const P: &str = "/projects/demo%2Fwebshop";

fn is_gitlab_timestamp(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    s.len() == 24
        && s.ends_with('Z')
        && s.as_bytes()[19] == b'.'
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

#[tokio::test]
async fn the_demo_seed_looks_like_a_lived_in_project() {
    let sim = demo().await;
    let a = get(&sim, &format!("{P}/issues")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-type"), Some("application/json"));
    let issues = a.json();
    let issues = issues.as_array().unwrap();
    assert_eq!(issues.len(), 4);
    assert!(
        issues
            .iter()
            .any(|i| i["state"] == "closed" && is_gitlab_timestamp(&i["closed_at"]))
    );
    assert!(
        issues
            .iter()
            .any(|i| i["assignees"][0]["username"] == "bob")
    );
    assert!(
        issues
            .iter()
            .any(|i| i["labels"] == json!(["bug", "priority::high"]))
    );
    assert!(issues.iter().any(|i| i["milestone"]["title"] == "Sprint 1"));
    for i in issues {
        assert!(is_gitlab_timestamp(&i["created_at"]) && is_gitlab_timestamp(&i["updated_at"]));
        assert_eq!(
            i["references"]["full"],
            format!("demo/webshop#{}", i["iid"])
        );
        assert!(i["web_url"].as_str().unwrap().starts_with(&sim.url()));
        assert!(i.get("subscribed").is_none(), "lists carry no `subscribed`");
    }
    let ms = get(&sim, &format!("{P}/milestones")).await.json();
    let titles: Vec<&str> = ms
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"Sprint 1") && titles.contains(&"Release 1.0"));
    for key in [
        "id",
        "iid",
        "project_id",
        "description",
        "state",
        "due_date",
        "start_date",
        "expired",
        "web_url",
    ] {
        assert!(ms[0].get(key).is_some(), "milestone lacks {key}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn tokens_are_read_from_every_place_gitlab_reads_them() {
    let sim = demo().await;
    let client = reqwest::Client::new();
    let url = format!("{}/api/v4/user", sim.url());
    let bearer = client
        .get(&url)
        .bearer_auth(sim.token())
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
    let query = client
        .get(format!("{url}?private_token={}", sim.token()))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 200);
    let me = get(&sim, "/user").await.json();
    assert_eq!(me["username"], "labsync-bot");
    assert!(me["email"].is_string(), "GET /user shows the private email");

    for token in [None, Some("glpat-wrong")] {
        let a = send(&sim, "GET", "/user", token, None).await;
        assert_eq!(
            (a.status, a.json()),
            (401, json!({"message": "401 Unauthorized"}))
        );
    }
    let old = sim.add_token("alice", &["api"], Some("2020-01-01".parse().unwrap()));
    let a = send(&sim, "GET", "/user", Some(&old), None).await;
    assert_eq!(a.status, 401);
    assert_eq!(
        a.json(),
        json!({"error": "invalid_token", "error_description": "Token is expired. You can either do re-authorization or token refresh."})
    );
    assert!(a.header("www-authenticate").unwrap().starts_with("Bearer"));
    let revoked = sim.add_token("alice", &["api"], None);
    sim.revoke_token(&revoked);
    let a = send(&sim, "GET", "/user", Some(&revoked), None).await;
    assert_eq!(
        a.json()["error_description"],
        "Token was revoked. You have to re-authorize from the user."
    );

    let reader = sim.add_token("alice", &["read_api"], None);
    assert_eq!(
        send(&sim, "GET", &format!("{P}/issues/1"), Some(&reader), None)
            .await
            .status,
        200
    );
    let a = send(
        &sim,
        "POST",
        &format!("{P}/issues"),
        Some(&reader),
        Some(json!({"title": "t"})),
    )
    .await;
    assert_eq!(a.status, 403);
    assert_eq!(a.json()["error"], "insufficient_scope");
    let me = send(
        &sim,
        "GET",
        "/personal_access_tokens/self",
        Some(&reader),
        None,
    )
    .await
    .json();
    assert_eq!(me["scopes"], json!(["read_api"]));
    assert_eq!(me["active"], true);
    sim.shutdown().await;
}

#[tokio::test]
async fn projects_by_id_or_encoded_path_and_404_otherwise() {
    let sim = demo().await;
    let by_path = get(&sim, P).await.json();
    let by_id = get(&sim, &format!("/projects/{}", sim.project_id()))
        .await
        .json();
    assert_eq!(by_path["id"], by_id["id"]);
    assert_eq!(by_path["path_with_namespace"], "demo/webshop");
    assert_eq!(by_path["issues_enabled"], true);
    assert_eq!(by_path["permissions"]["project_access"]["access_level"], 40);
    assert!(
        by_path["web_url"]
            .as_str()
            .unwrap()
            .ends_with("/demo/webshop")
    );
    let missing = get(&sim, "/projects/demo%2Fnope").await;
    assert_eq!(
        (missing.status, missing.json()),
        (404, json!({"message": "404 Project Not Found"}))
    );
    // Not a member of a private project: missing, not forbidden.
    sim.add_user("eve", "Eve", "eve@example.com");
    let eve = sim.add_token("eve", &["api"], None);
    let a = send(&sim, "GET", P, Some(&eve), None).await;
    assert_eq!(
        (a.status, a.json()["message"].as_str()),
        (404, Some("404 Project Not Found"))
    );
    // An unencoded slash matches no route.
    let a = get(&sim, "/projects/demo/webshop/issues").await;
    assert_eq!(
        (a.status, a.json()),
        (404, json!({"error": "404 Not Found"}))
    );

    let bob = get(&sim, "/users?username=Bob").await.json();
    assert_eq!(bob.as_array().unwrap().len(), 1);
    assert!(bob[0].get("email").is_none(), "UserBasic has no email");
    let id = bob[0]["id"].as_u64().unwrap();
    assert_eq!(
        get(&sim, &format!("/users/{id}")).await.json()["name"],
        "Bob Developer"
    );
    assert_eq!(
        get(&sim, "/users?search=carol").await.json()[0]["username"],
        "carol"
    );
    let m = get(&sim, &format!("{P}/members/all/{id}")).await.json();
    assert_eq!(m["access_level"], 30);
    assert_eq!(
        get(&sim, &format!("{P}/members/all"))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        5
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn error_bodies_have_gitlabs_shapes() {
    let sim = demo().await;
    let t = Some(sim.token());
    let a = send(&sim, "GET", &format!("{P}/issues/999"), t, None).await;
    assert_eq!(
        (a.status, a.json()),
        (404, json!({"message": "404 Not found"}))
    );
    let a = send(
        &sim,
        "PUT",
        &format!("{P}/issues/999"),
        t,
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (404, json!({"message": "404 Not found"}))
    );
    let a = send(
        &sim,
        "POST",
        &format!("{P}/issues"),
        t,
        Some(json!({"description": "no title"})),
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (400, json!({"error": "title is missing"}))
    );
    let a = send(&sim, "PUT", &format!("{P}/issues/1"), t, Some(json!({}))).await;
    assert_eq!(a.status, 400);
    assert!(
        a.json()["error"]
            .as_str()
            .unwrap()
            .ends_with("at least one parameter must be provided")
    );
    let a = send(
        &sim,
        "POST",
        &format!("{P}/issues"),
        t,
        Some(json!({"title": "é".repeat(256)})),
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (
            400,
            json!({"message": {"title": ["is too long (maximum is 255 characters)"]}})
        )
    );
    let ok = send(
        &sim,
        "POST",
        &format!("{P}/issues"),
        t,
        Some(json!({"title": "é".repeat(255)})),
    )
    .await;
    assert_eq!(ok.status, 201, "the limit is on characters, not bytes");
    let big = "a".repeat(1024 * 1024 + 1);
    let a = send(
        &sim,
        "POST",
        &format!("{P}/issues"),
        t,
        Some(json!({"title": "big", "description": big})),
    )
    .await;
    assert_eq!(a.status, 400);
    assert!(
        a.json()["message"]["description"][0]
            .as_str()
            .unwrap()
            .starts_with("is too long")
    );
    let dave = sim.add_token("dave", &["api"], None);
    let a = send(
        &sim,
        "POST",
        &format!("{P}/issues"),
        Some(&dave),
        Some(json!({"title": "guest"})),
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (403, json!({"message": "403 Forbidden"}))
    );
    let a = send(&sim, "GET", &format!("{P}/issues?state=weird"), t, None).await;
    assert_eq!(
        (a.status, a.json()),
        (400, json!({"error": "state does not have a valid value"}))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn issue_lists_follow_gitlabs_defaults_and_filters() {
    let sim = demo().await;
    let iids = |v: Value| -> Vec<u64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["iid"].as_u64().unwrap())
            .collect()
    };
    // state defaults to all; order defaults to created_at desc.
    assert_eq!(
        iids(get(&sim, &format!("{P}/issues")).await.json()),
        vec![4, 3, 2, 1]
    );
    assert_eq!(
        iids(
            get(&sim, &format!("{P}/issues?state=opened&sort=asc"))
                .await
                .json()
        ),
        vec![1, 2, 3]
    );
    assert_eq!(
        iids(get(&sim, &format!("{P}/issues?state=closed")).await.json()),
        vec![4]
    );
    assert_eq!(
        iids(
            get(&sim, &format!("{P}/issues?labels=bug,priority::high"))
                .await
                .json()
        ),
        vec![1]
    );
    assert_eq!(
        iids(
            get(&sim, &format!("{P}/issues?labels=bug,priority::low"))
                .await
                .json()
        ),
        Vec::<u64>::new()
    );
    assert_eq!(
        iids(get(&sim, &format!("{P}/issues?labels=None")).await.json()),
        vec![4]
    );
    assert_eq!(
        iids(
            get(&sim, &format!("{P}/issues?milestone=Sprint%201"))
                .await
                .json()
        ),
        vec![3]
    );
    assert_eq!(
        iids(
            get(&sim, &format!("{P}/issues?iids[]=1&iids[]=3"))
                .await
                .json()
        ),
        vec![3, 1]
    );
    assert_eq!(
        iids(
            get(&sim, &format!("{P}/issues?search=WISHLIST"))
                .await
                .json()
        ),
        vec![1]
    );
    assert_eq!(
        iids(
            get(&sim, &format!("{P}/issues?assignee_username=bob"))
                .await
                .json()
        ),
        vec![2]
    );

    // Both bounds inclusive, to the millisecond.
    let one = get(&sim, &format!("{P}/issues/2")).await.json();
    let at = one["updated_at"].as_str().unwrap().replace('+', "%2B");
    let both = get(
        &sim,
        &format!("{P}/issues?updated_after={at}&updated_before={at}"),
    )
    .await
    .json();
    assert_eq!(iids(both), vec![2]);
    let created = one["created_at"].as_str().unwrap();
    let from = get(
        &sim,
        &format!("{P}/issues?created_after={created}&order_by=created_at&sort=asc"),
    )
    .await
    .json();
    assert_eq!(iids(from), vec![2, 3, 4]);
    sim.shutdown().await;
}

#[tokio::test]
async fn pagination_headers_are_those_gitlab_sends() {
    let sim = GitLabSim::start(GitLabSimConfig {
        seed: Seed::Empty,
        ..GitLabSimConfig::default()
    })
    .await
    .unwrap();
    for n in 0..45 {
        sim.create_issue_as("alice", &format!("p{n}"), "");
    }
    let a = get(
        &sim,
        &format!("{P}/issues?state=all&per_page=20&page=2&labels="),
    )
    .await;
    assert_eq!(a.json().as_array().unwrap().len(), 20);
    assert_eq!(a.header("x-page"), Some("2"));
    assert_eq!(a.header("x-per-page"), Some("20"));
    assert_eq!(a.header("x-next-page"), Some("3"));
    assert_eq!(a.header("x-prev-page"), Some("1"));
    assert_eq!(a.header("x-total"), Some("45"));
    assert_eq!(a.header("x-total-pages"), Some("3"));
    let link = a.header("link").unwrap();
    let base = format!("{}/api/v4/projects/demo%2Fwebshop/issues?", sim.url());
    assert!(
        link.contains(&format!(
            "<{base}labels=&page=3&per_page=20&state=all>; rel=\"next\""
        )),
        "{link}"
    );
    assert!(
        link.contains("rel=\"prev\"")
            && link.contains("rel=\"first\"")
            && link.contains("rel=\"last\"")
    );

    let last = get(&sim, &format!("{P}/issues?per_page=20&page=3")).await;
    assert_eq!(last.json().as_array().unwrap().len(), 5);
    assert_eq!(
        last.header("x-next-page"),
        Some(""),
        "present and empty on the last page"
    );
    assert!(!last.header("link").unwrap().contains("rel=\"next\""));
    let first = get(&sim, &format!("{P}/issues?per_page=500")).await;
    assert_eq!(first.header("x-per-page"), Some("100"));
    assert_eq!(first.header("x-prev-page"), Some(""));
    let past = get(&sim, &format!("{P}/issues?page=9")).await;
    assert_eq!(past.json(), json!([]));

    for n in 45..10_001 {
        sim.create_issue_as("alice", &format!("p{n}"), "");
    }
    let huge = get(&sim, &format!("{P}/issues?per_page=100")).await;
    assert_eq!(huge.header("x-total"), None, "no count above 10,000");
    assert_eq!(huge.header("x-total-pages"), None);
    assert_eq!(huge.header("x-next-page"), Some("2"));
    assert!(!huge.header("link").unwrap().contains("rel=\"last\""));
    sim.shutdown().await;
}

#[tokio::test]
async fn notes_system_notes_and_resource_events() {
    let sim = demo().await;
    let t = Some(sim.token());
    let bodies = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|n| n["body"].as_str().unwrap().to_string())
            .collect()
    };
    // Notes default to newest first.
    let notes = get(&sim, &format!("{P}/issues/2/notes")).await.json();
    assert_eq!(
        bodies(notes),
        vec![
            "Looks like the mailer job is enqueued twice.",
            "assigned to @bob"
        ]
    );
    let asc = get(&sim, &format!("{P}/issues/2/notes?sort=asc"))
        .await
        .json();
    assert_eq!(asc[0]["system"], true);
    assert_eq!(asc[1]["system"], false);
    assert_eq!(asc[1]["noteable_type"], "Issue");

    let carol = sim.add_token("carol", &["api"], None);
    let c = Some(carol.as_str());
    send(
        &sim,
        "PUT",
        &format!("{P}/issues/3"),
        c,
        Some(json!({"assignee_ids": [sim_user(&sim, "alice").await]})),
    )
    .await;
    send(
        &sim,
        "PUT",
        &format!("{P}/issues/3"),
        c,
        Some(json!({"description": "PDF, see #1"})),
    )
    .await;
    send(
        &sim,
        "PUT",
        &format!("{P}/issues/3"),
        c,
        Some(json!({"add_labels": "priority::high", "state_event": "close"})),
    )
    .await;
    let notes = bodies(
        get(&sim, &format!("{P}/issues/3/notes?sort=asc"))
            .await
            .json(),
    );
    assert_eq!(notes, vec!["assigned to @alice", "changed the description"]);
    let on_one = bodies(get(&sim, &format!("{P}/issues/1/notes")).await.json());
    assert_eq!(on_one[0], "mentioned in issue #3");
    // Label and state changes are events, not notes.
    let states = get(&sim, &format!("{P}/issues/3/resource_state_events"))
        .await
        .json();
    assert_eq!(states[0]["state"], "closed");
    assert_eq!(states[0]["user"]["username"], "carol");
    let labels = get(&sim, &format!("{P}/issues/3/resource_label_events"))
        .await
        .json();
    let last = labels.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["label"]["name"].as_str()),
        (Some("add"), Some("priority::high"))
    );

    // A body of quick actions only: 202 and no note.
    let a = send(
        &sim,
        "POST",
        &format!("{P}/issues/3/notes"),
        t,
        Some(json!({"body": "/reopen"})),
    )
    .await;
    assert_eq!(a.status, 202);
    assert_eq!(a.json()["commands_changes"]["state_event"], "reopen");
    assert_eq!(
        get(&sim, &format!("{P}/issues/3")).await.json()["state"],
        "opened"
    );
    let a = send(
        &sim,
        "POST",
        &format!("{P}/issues/3/notes"),
        t,
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (400, json!({"error": "body is missing"}))
    );
    sim.shutdown().await;
}

async fn sim_user(sim: &GitLabSim, username: &str) -> u64 {
    get(sim, &format!("/users?username={username}"))
        .await
        .json()[0]["id"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn labels_and_milestones_refuse_duplicates_like_gitlab() {
    let sim = demo().await;
    let t = Some(sim.token());
    let a = send(
        &sim,
        "POST",
        &format!("{P}/labels"),
        t,
        Some(json!({"name": "priority::high", "color": "#ff0000"})),
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (409, json!({"message": "Label already exists"}))
    );
    let a = send(
        &sim,
        "POST",
        &format!("{P}/labels"),
        t,
        Some(json!({"name": "ux"})),
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (400, json!({"error": "color is missing"}))
    );
    // Labels given to an issue are created on the fly.
    send(
        &sim,
        "PUT",
        &format!("{P}/issues/1"),
        t,
        Some(json!({"add_labels": "regression"})),
    )
    .await;
    assert_eq!(
        get(&sim, &format!("{P}/labels/regression")).await.json()["color"],
        "#6699cc"
    );

    let a = send(
        &sim,
        "POST",
        &format!("{P}/milestones"),
        t,
        Some(json!({"title": "Sprint 1"})),
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (
            400,
            json!({"message": {"title": ["already being used for another group or project milestone."]}})
        )
    );
    let sprint = get(&sim, &format!("{P}/milestones?title=Sprint%201"))
        .await
        .json()[0]
        .clone();
    let id = sprint["id"].as_u64().unwrap();
    let at = sprint["updated_at"].as_str().unwrap().to_string();
    let inclusive = get(
        &sim,
        &format!("{P}/milestones?updated_after={at}&updated_before={at}"),
    )
    .await
    .json();
    assert_eq!(
        inclusive.as_array().unwrap().len(),
        2,
        "both seeded milestones share updated_at"
    );
    sim.clock().advance(chrono::TimeDelta::seconds(5));
    let closed = send(
        &sim,
        "PUT",
        &format!("{P}/milestones/{id}"),
        t,
        Some(json!({"state_event": "close"})),
    )
    .await
    .json();
    assert_eq!(closed["state"], "closed");
    assert_ne!(closed["updated_at"].as_str().unwrap(), at);
    assert_eq!(
        get(&sim, &format!("{P}/milestones?state=active"))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_throttle_answers_429_in_plain_text_with_rate_headers() {
    let sim = GitLabSim::start(GitLabSimConfig {
        rate_limit_per_minute: Some(3),
        ..GitLabSimConfig::default()
    })
    .await
    .unwrap();
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let a = get(&sim, "/user").await;
        assert_eq!(a.status, 200);
        assert_eq!(a.header("ratelimit-limit"), Some("3"));
        assert!(a.header("ratelimit-reset").unwrap().parse::<u64>().is_ok());
        remaining.push(a.header("ratelimit-remaining").unwrap().to_string());
    }
    assert_eq!(remaining, vec!["2", "1", "0"]);
    let a = get(&sim, "/user").await;
    assert_eq!(a.status, 429);
    assert_eq!(a.text, "Retry later\n");
    assert!(a.header("content-type").unwrap().starts_with("text/plain"));
    let retry: u64 = a.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(a.header("ratelimit-observed"), Some("3"));
    assert_eq!(
        a.header("ratelimit-name"),
        Some("throttle_authenticated_api")
    );
    // The budget is per token.
    let other = sim.add_token("alice", &["api"], None);
    assert_eq!(
        send(&sim, "GET", "/user", Some(&other), None).await.status,
        200
    );
    assert_eq!(sim.status_count(429), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_throttle_can_be_changed_while_running() {
    let sim = GitLabSim::start(GitLabSimConfig::default()).await.unwrap();
    let a = get(&sim, "/user").await;
    assert_eq!((a.status, a.header("ratelimit-limit")), (200, None));
    // An hour's window: the test does not straddle two.
    sim.set_rate_limit(Some(2), Duration::from_secs(3600));
    for _ in 0..2 {
        let a = get(&sim, "/user").await;
        assert_eq!((a.status, a.header("ratelimit-limit")), (200, Some("2")));
    }
    assert_eq!(get(&sim, "/user").await.status, 429);
    sim.set_rate_limit(None, Duration::from_secs(60));
    assert_eq!(get(&sim, "/user").await.status, 200);
    assert_eq!(sim.status_count(429), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_and_latency_are_injected_per_route() {
    let sim = GitLabSim::start(GitLabSimConfig {
        latency: Duration::from_millis(30),
        ..GitLabSimConfig::default()
    })
    .await
    .unwrap();
    let started = std::time::Instant::now();
    get(&sim, "/user").await;
    assert!(started.elapsed() >= Duration::from_millis(30));
    sim.faults().set_route(
        "GET /api/v4/projects/{id}/labels",
        labsync_sim::faults::FaultRule {
            error_rate: 1.0,
            ..Default::default()
        },
    );
    let a = get(&sim, &format!("{P}/labels")).await;
    assert!([500, 502, 503].contains(&a.status));
    assert_eq!(get(&sim, &format!("{P}/milestones")).await.status, 200);
    assert_eq!(sim.request_count("GET /api/v4/projects/{id}/labels"), 1);
    sim.shutdown().await;
}

/// GitLab's application limiter (`lib/api/helpers/rate_limiter.rb`,
/// `lib/gitlab/application_rate_limiter.rb`) renders a JSON error and, on
/// older versions, no rate header at all: no `Retry-After`, no
/// `RateLimit-Reset`. That is the default; newer versions' `Retry-After` is
/// a switch.
#[tokio::test]
async fn the_creation_limiter_answers_429_in_json() {
    let sim = GitLabSim::start(GitLabSimConfig {
        create_limit_per_minute: Some(2),
        create_limit_retry_after: true,
        ..GitLabSimConfig::default()
    })
    .await
    .unwrap();
    let t = Some(sim.token());
    for n in 0..2 {
        let a = send(
            &sim,
            "POST",
            &format!("{P}/issues"),
            t,
            Some(json!({"title": format!("c{n}")})),
        )
        .await;
        assert_eq!(a.status, 201);
    }
    let a = send(
        &sim,
        "POST",
        &format!("{P}/issues"),
        t,
        Some(json!({"title": "c3"})),
    )
    .await;
    assert_eq!(a.status, 429);
    assert_eq!(
        a.json(),
        json!({"message": {"error": "This endpoint has been requested too many times. Try again later."}})
    );
    assert_eq!(a.header("content-type"), Some("application/json"));
    assert!(a.header("retry-after").unwrap().parse::<u64>().unwrap() <= 60);
    // Notes share the budget; reads are not limited.
    let a = send(
        &sim,
        "POST",
        &format!("{P}/issues/1/notes"),
        t,
        Some(json!({"body": "hi"})),
    )
    .await;
    assert_eq!(a.status, 429);
    assert_eq!(get(&sim, &format!("{P}/issues")).await.status, 200);
    assert_eq!(sim.issues().len(), 6);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_creation_limiter_says_no_retry_after_by_default() {
    let sim = GitLabSim::start(GitLabSimConfig {
        create_limit_per_minute: Some(1),
        ..GitLabSimConfig::default()
    })
    .await
    .unwrap();
    let t = Some(sim.token());
    let mut answers = Vec::new();
    for n in 0..2 {
        let body = Some(json!({"title": format!("c{n}")}));
        answers.push(send(&sim, "POST", &format!("{P}/issues"), t, body).await);
    }
    assert_eq!(answers[0].status, 201);
    let a = &answers[1];
    assert_eq!(a.status, 429);
    assert_eq!(a.header("retry-after"), None);
    assert_eq!(a.header("ratelimit-reset"), None);
    assert_eq!(
        a.json()["message"]["error"],
        "This endpoint has been requested too many times. Try again later."
    );
    sim.shutdown().await;
}

/// The `Date` header follows the simulator's clock, as a real server's
/// follows its own: clients measure sync windows on it.
#[tokio::test]
async fn date_header_follows_the_simulator_clock() {
    use labsync::http::{HttpClient, HttpSettings, Idempotency};
    let sim =
        labsync_sim::gitlab::GitLabSim::start(labsync_sim::gitlab::GitLabSimConfig::default())
            .await
            .unwrap();
    sim.clock().advance(chrono::Duration::days(3));
    let http = HttpClient::new(HttpSettings::default()).unwrap();
    let url = format!("{}/api/v4/user", sim.url());
    let token = sim.token().to_string();
    http.send("GET /user", Idempotency::Safe, |c| {
        c.get(&url).header("PRIVATE-TOKEN", &token)
    })
    .await
    .unwrap();
    let server_now = http.server_now().unwrap();
    let skew = server_now - sim.clock().now();
    assert!(
        skew.num_seconds().abs() <= 2,
        "server_now {server_now} vs sim clock {}",
        sim.clock().now()
    );
}

/// Creates an issue as the main token's user; the issue as answered.
async fn post_issue(sim: &GitLabSim, body: Value) -> Value {
    let a = send(
        sim,
        "POST",
        &format!("{P}/issues"),
        Some(sim.token()),
        Some(body),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.text);
    a.json()
}

/// The iids a list request answers.
async fn listed_iids(sim: &GitLabSim, path: &str) -> Vec<u64> {
    let a = get(sim, path).await;
    assert_eq!(a.status, 200, "{path}: {}", a.text);
    a.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["iid"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn search_is_full_text_and_blind_to_html_comments() {
    // gitlab-org/gitlab app/finders/issuable_finder.rb (use_full_text_search?)
    // and app/models/concerns/pg_full_text_searchable.rb: ASCII terms search a
    // tsvector in which HTML comments are unindexed `tag` tokens.
    let sim = demo().await;
    let made = post_issue(
        &sim,
        json!({"title": "Footer test",
            "description": "Steps\n\n_Synced by labsync._\n<!-- labsync:incident=1/42 -->"}),
    )
    .await;
    let search = |query: &str| {
        let query: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
        format!("{P}/issues?in=description&search={query}")
    };
    let none = Vec::<u64>::new();
    let marker = search("<!-- labsync:incident=1/42 -->");
    assert_eq!(listed_iids(&sim, &marker).await, none);
    let bare = search("labsync:incident=1/42");
    assert_eq!(listed_iids(&sim, &bare).await, none);
    let words = search("steps synced");
    assert_eq!(
        listed_iids(&sim, &words).await,
        vec![made["iid"].as_u64().unwrap()]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn scope_created_by_me_lists_the_callers_own_issues() {
    // app/finders/issuable_finder.rb (by_scope): created_by_me is author_id = current user.
    let sim = demo().await;
    let made = post_issue(&sim, json!({"title": "Mine"})).await;
    let mine = listed_iids(&sim, &format!("{P}/issues?scope=created_by_me")).await;
    assert_eq!(mine, vec![made["iid"].as_u64().unwrap()]);
    let all = listed_iids(&sim, &format!("{P}/issues?scope=all")).await;
    assert_eq!(all.len(), 5);
    assert_eq!(
        get(&sim, &format!("{P}/issues?scope=mine")).await.status,
        400
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_dropped_create_is_kept_by_the_server() {
    let sim = demo().await;
    sim.faults()
        .drop_next("POST /api/v4/projects/{id}/issues", 1);
    let client = reqwest::Client::new();
    let url = format!("{}/api/v4{P}/issues", sim.url());
    let lost = client
        .post(&url)
        .header("PRIVATE-TOKEN", sim.token())
        .json(&json!({"title": "Answer lost"}))
        .send()
        .await;
    let lost = match lost {
        Ok(r) => r.text().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(lost.is_err(), "the answer must not arrive");
    assert_eq!(
        sim.issues()
            .iter()
            .filter(|i| i["title"] == "Answer lost")
            .count(),
        1
    );
    // Only the next one is dropped.
    post_issue(&sim, json!({"title": "Fine"})).await;
    sim.shutdown().await;
}

/// `lib/api/notes.rb` pages the notes first and drops those the caller may
/// not read afterwards ("the current page can have less elements than
/// :per_page even if there's more than one page"); internal notes are
/// readable from Reporter up (`app/policies/note_policy.rb`,
/// `can_read_internal_note`), and `user_notes_count` still counts them.
#[tokio::test]
async fn notes_a_guest_may_not_read_leave_an_empty_page_mid_list() {
    let sim = demo().await;
    let iid = sim.create_issue_as("alice", "Internal talk", "steps");
    for n in 0..3 {
        sim.add_internal_note_as("carol", iid, &format!("internal {n}"))
            .unwrap();
    }
    let public = sim.add_note_as("carol", iid, "public").unwrap();
    let guest = sim.add_token("dave", &["api"], None);
    let notes = |page: u32| format!("{P}/issues/{iid}/notes?sort=asc&per_page=3&page={page}");
    let a = send(&sim, "GET", &notes(1), Some(&guest), None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json(), json!([]), "the page held only internal notes");
    assert_eq!(a.header("x-next-page"), Some("2"));
    let a = send(&sim, "GET", &notes(2), Some(&guest), None).await;
    assert_eq!(a.json()[0]["id"], public);
    let internal = sim.notes(iid)[0]["id"].as_u64().unwrap();
    let one = format!("{P}/issues/{iid}/notes/{internal}");
    assert_eq!(
        send(&sim, "GET", &one, Some(&guest), None).await.status,
        404
    );
    // A Reporter reads them all.
    let reporter = sim.add_token("alice", &["api"], None);
    let a = send(&sim, "GET", &notes(1), Some(&reporter), None).await;
    assert_eq!(a.json().as_array().unwrap().len(), 3);
    assert_eq!(sim.issue(iid).unwrap()["user_notes_count"], 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn issues_are_deleted_by_owners_and_admins_only() {
    // gitlab-org/gitlab lib/api/issues.rb (delete ":id/issues/:issue_iid":
    // not_found!('Issue'), then authorize!(:destroy_issue)), doc/api/issues.md.
    let sim = demo().await;
    let path = format!("{P}/issues/1");
    // The main token is a maintainer's: refused, and the issue stays.
    let refused = send(&sim, "DELETE", &path, Some(sim.token()), None).await;
    assert_eq!(refused.status, 403);
    assert_eq!(get(&sim, &path).await.status, 200);
    sim.set_member("carol", labsync_sim::gitlab::OWNER);
    let owner = sim.add_token("carol", &["api"], None);
    let deleted = send(&sim, "DELETE", &path, Some(&owner), None).await;
    assert_eq!((deleted.status, deleted.text.as_str()), (204, ""));
    let gone = get(&sim, &path).await;
    assert_eq!(
        (gone.status, gone.json()),
        (404, json!({"message": "404 Not found"}))
    );
    assert!(sim.notes(1).is_empty(), "its notes went with it");
    let again = send(&sim, "DELETE", &path, Some(&owner), None).await;
    assert_eq!(
        (again.status, again.json()),
        (404, json!({"message": "404 Issue Not Found"}))
    );
    // An administrator needs no membership.
    sim.add_user("root", "Administrator", "root@example.com");
    sim.set_admin("root", true);
    let admin = sim.add_token("root", &["api"], None);
    let by_admin = send(&sim, "DELETE", &format!("{P}/issues/2"), Some(&admin), None).await;
    assert_eq!(by_admin.status, 204);
    sim.shutdown().await;
}

#[tokio::test]
async fn ties_are_broken_by_id_descending_in_both_directions() {
    // gitlab-org/gitlab app/models/concerns/issuable.rb (sort_by_attribute):
    // "Break ties with the ID column for pagination", sorted.with_order_id_desc.
    let sim = GitLabSim::start(GitLabSimConfig {
        seed: Seed::Empty,
        ..GitLabSimConfig::default()
    })
    .await
    .unwrap();
    let at = sim.clock().now() - chrono::Duration::days(1);
    for title in ["a", "b", "c"] {
        let iid = sim.create_issue_as("alice", title, "x");
        sim.set_issue_updated_at(iid, at);
    }
    let newest = sim.create_issue_as("alice", "d", "x");
    for sort in ["asc", "desc"] {
        let path = format!("{P}/issues?order_by=updated_at&sort={sort}");
        let listed = listed_iids(&sim, &path).await;
        let expected = if sort == "asc" {
            vec![3, 2, 1, newest]
        } else {
            vec![newest, 3, 2, 1]
        };
        assert_eq!(listed, expected, "sort={sort}");
    }
    sim.shutdown().await;
}

/// doc/api/notes.md and `delete_note` (lib/api/helpers/notes_helpers.rb):
/// `DELETE …/notes/:note_id` answers 204 to the note's author or a
/// Maintainer (`admin_note`, app/policies/note_policy.rb), 403 to others and
/// for system notes; the issue's `user_notes_count` drops.
#[tokio::test]
async fn notes_are_deleted_by_their_author_or_a_maintainer() {
    let sim = demo().await;
    let iid = sim.create_issue_as("alice", "Deleting", "steps");
    let by_bob = sim.add_note_as("bob", iid, "bob's").unwrap();
    let by_alice = sim.add_note_as("alice", iid, "alice's").unwrap();
    let path = |n: u64| format!("{P}/issues/{iid}/notes/{n}");
    let alice = sim.add_token("alice", &["api"], None);
    let bob = sim.add_token("bob", &["api"], None);
    let a = send(&sim, "DELETE", &path(by_bob), Some(&alice), None).await;
    assert_eq!(a.status, 403, "a Reporter may not delete another's note");
    let a = send(&sim, "DELETE", &path(by_bob), Some(&bob), None).await;
    assert_eq!(a.status, 204);
    assert_eq!(a.text, "");
    // The main token is a Maintainer's.
    let a = send(&sim, "DELETE", &path(by_alice), Some(sim.token()), None).await;
    assert_eq!(a.status, 204);
    assert_eq!(sim.issue(iid).unwrap()["user_notes_count"], 0);
    assert_eq!(get(&sim, &path(by_alice)).await.status, 404);
    sim.shutdown().await;
}

/// A project's issue list returns every work item type of
/// `Issue::TYPES_FOR_LIST` (app/models/issue.rb): tasks and test cases
/// too; `issue_type=` (one value, lib/api/issues.rb) filters, and a create
/// may name one.
#[tokio::test]
async fn the_issue_list_holds_tasks_too_unless_filtered() {
    let sim = demo().await;
    let task = sim.create_work_item_as("alice", "Write the migration", "task");
    let a = get(&sim, &format!("{P}/issues?per_page=100")).await;
    let listed = a.json();
    let found = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["iid"] == task)
        .unwrap();
    assert_eq!(found["issue_type"], "task");
    assert_eq!(found["type"], "TASK");
    let a = get(&sim, &format!("{P}/issues?issue_type=task")).await;
    assert_eq!(a.json().as_array().unwrap().len(), 1);
    let a = get(&sim, &format!("{P}/issues?issue_type=issue")).await;
    assert!(
        a.json()
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["issue_type"] == "issue")
    );
    assert_eq!(
        get(&sim, &format!("{P}/issues?issue_type=epic"))
            .await
            .status,
        400
    );
    let body = Some(json!({"title": "Test login", "issue_type": "test_case"}));
    let a = send(
        &sim,
        "POST",
        &format!("{P}/issues"),
        Some(sim.token()),
        body,
    )
    .await;
    assert_eq!(a.status, 201);
    assert_eq!(a.json()["issue_type"], "test_case");
    sim.shutdown().await;
}

/// Milestone titles are unique across the project and its ancestor groups
/// (app/models/milestone.rb, `uniqueness_of_title`); the project's list
/// holds group milestones only with `include_ancestors=true`
/// (doc/api/milestones.md), and its issues may use them.
#[tokio::test]
async fn group_milestones_take_their_title_and_are_listed_on_request() {
    let sim = demo().await;
    let gm = sim.add_group_milestone("Q3");
    let titles = |a: &Answer| -> Vec<String> {
        a.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["title"].as_str().unwrap().to_string())
            .collect()
    };
    let a = get(&sim, &format!("{P}/milestones")).await;
    assert!(!titles(&a).contains(&"Q3".to_string()));
    let a = get(&sim, &format!("{P}/milestones?include_ancestors=true")).await;
    assert!(titles(&a).contains(&"Q3".to_string()));
    let listed = a.json();
    let q3 = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["title"] == "Q3")
        .unwrap();
    assert!(
        q3["group_id"].is_u64() && q3.get("project_id").is_none(),
        "{q3}"
    );
    let body = Some(json!({"title": "Q3"}));
    let a = send(
        &sim,
        "POST",
        &format!("{P}/milestones"),
        Some(sim.token()),
        body,
    )
    .await;
    assert_eq!(a.status, 400);
    assert!(
        a.text
            .contains("already being used for another group or project milestone")
    );
    let body = Some(json!({"title": "Uses Q3", "milestone_id": gm}));
    let a = send(
        &sim,
        "POST",
        &format!("{P}/issues"),
        Some(sim.token()),
        body,
    )
    .await;
    assert_eq!(a.json()["milestone"]["id"], gm);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_moved_issue_stays_behind_closed_with_moved_to_id() {
    // gitlab-org/gitlab app/services/issues/move_service.rb (mark_as_moved,
    // verify_can_move_issue!), app/services/issuable/clone/base_service.rb
    // (close_issue), app/services/issues/base_service.rb (filter_params: a
    // moved issue keeps created_at and updated_at), lib/api/issues.rb.
    let sim = demo().await;
    let archive = sim.add_project("demo/archive");
    let before = get(&sim, &format!("{P}/issues/1")).await.json();
    let move_to = |iid: u64, to: u64| {
        let sim = &sim;
        async move {
            let body = json!({ "to_project_id": to });
            let path = format!("{P}/issues/{iid}/move");
            send(sim, "POST", &path, Some(sim.token()), Some(body)).await
        }
    };
    let answer = move_to(1, archive).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let moved = answer.json();
    assert_eq!(
        (moved["project_id"].as_u64(), moved["iid"].as_u64()),
        (Some(archive), Some(1))
    );
    assert_ne!(moved["id"], before["id"]);
    for kept in ["title", "description", "author", "created_at"] {
        assert_eq!(moved[kept], before[kept], "{kept}");
    }
    assert_eq!(
        moved["labels"],
        json!([]),
        "the archive has none of its labels"
    );
    assert_eq!(
        moved["user_notes_count"], before["user_notes_count"],
        "notes are copied"
    );
    // The original answers 200: closed, pointing at the new issue.
    let original = get(&sim, &format!("{P}/issues/1")).await;
    assert_eq!(original.status, 200);
    let original = original.json();
    assert_eq!(original["state"], "closed");
    assert_eq!(original["moved_to_id"], moved["id"]);
    let last = sim.notes(1).pop().unwrap();
    assert_eq!(
        (last["body"].as_str(), last["system"].as_bool()),
        (Some("moved to archive#1"), Some(true))
    );
    // Refusals: moved already, same project, unknown project.
    let again = move_to(1, archive).await;
    assert_eq!(
        (again.status, again.json()),
        (
            400,
            json!({"message": "Cannot move issue due to insufficient permissions!"})
        )
    );
    let home = move_to(2, sim.project_id()).await;
    assert_eq!(
        (home.status, home.json()),
        (
            400,
            json!({"message": "Cannot move issue to project it originates from!"})
        )
    );
    let nowhere = move_to(2, 999_999).await;
    assert_eq!(
        (nowhere.status, nowhere.json()),
        (404, json!({"message": "404 Project Not Found"}))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn offset_pages_past_the_maximum_offset_answer_405() {
    // gitlab-org/gitlab lib/api/helpers/pagination_strategies.rb
    // (offset_limit_exceeded?: page * per_page > offset_pagination_limit).
    let sim = GitLabSim::start(GitLabSimConfig {
        max_offset: 4,
        ..GitLabSimConfig::default()
    })
    .await
    .unwrap();
    let page = |n: u32| format!("{P}/issues?per_page=2&page={n}");
    assert_eq!(listed_iids(&sim, &page(2)).await.len(), 2);
    let refused = get(&sim, &page(3)).await;
    assert_eq!(refused.status, 405);
    assert_eq!(
        refused.json(),
        json!({"error": "Offset pagination has a maximum allowed offset of 4 for requests that return objects of type Issue. Remaining records can be retrieved using keyset pagination."})
    );
    sim.shutdown().await;
}
