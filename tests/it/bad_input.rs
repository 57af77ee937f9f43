//! Awkward and hostile input: oversized titles and descriptions, Unicode,
//! emoji, right-to-left text, markup injection, and refused credentials.

use labsync_testkit::world;

use labsync::connectors::run_plugin;
use labsync::connectors::{CycleMode, CycleOptions};
use world::World;

#[tokio::test]
async fn oversized_titles_and_descriptions_are_cut_for_gitlab_without_failing_or_echoing() {
    let mut w = World::new("").await;
    let title = format!("🚨 {} שלום", "Very long title ".repeat(20));
    let description = format!("<p>{}</p>", "A".repeat(1_100_000));
    let id = w.spira.add_incident(1, &title, 1);
    w.spira
        .edit_incident(id, |i| i.description = description.clone());
    let r = w.cycle().await;
    assert_eq!(
        (r.totals().created_issues, r.totals().failed),
        (1, 0),
        "{r:?}"
    );
    let issue = w.gitlab.issues().into_iter().next().unwrap();
    let gl_title = issue["title"].as_str().unwrap();
    assert_eq!(gl_title.chars().count(), 255);
    assert!(gl_title.ends_with('…') && gl_title.starts_with("🚨 Very long title"));
    let gl_desc = issue["description"].as_str().unwrap();
    assert!(gl_desc.chars().count() <= 1_048_576);
    assert!(
        gl_desc.contains("the description was cut here"),
        "a visible note says so"
    );
    // The cut copy is not mistaken for an edit: Spira keeps the full text.
    w.advance(chrono::Duration::minutes(5));
    let r = w.cycle().await;
    assert_eq!(r.totals().writes(), 0, "{r:?}");
    let incident = w.spira.incident(id).unwrap();
    assert_eq!(incident.name, title);
    assert_eq!(incident.description, description);
}

#[tokio::test]
async fn unicode_and_markup_injection_round_trip_without_passing_script_to_spira() {
    let mut w = World::new("").await;
    let title = "💥 <script>alert(1)</script> שלום עולם — ünïcødé";
    let body = "Steps:\n\n1. Open **cart** 🛒\n2. Type `<img src=x onerror=alert(1)>`\n\n<script>alert('x')</script>\n\nمرحبا بالعالم";
    let iid = w.gitlab.create_issue_as("alice", title, body);
    w.cycle().await;
    let incident = w.incident_named(title);
    assert_eq!(incident.name, title, "titles are plain text on both sides");
    assert!(
        !incident.description.contains("<script"),
        "{}",
        incident.description
    );
    assert!(
        !incident.description.contains("<img"),
        "{}",
        incident.description
    );
    assert!(
        incident.description.contains("<strong>cart</strong> 🛒"),
        "{}",
        incident.description
    );
    assert!(incident.description.contains("مرحبا بالعالم"));
    // Round trips change nothing: no growth, no drift.
    let before = w.gitlab.issue(iid).unwrap()["description"].clone();
    for _ in 0..3 {
        w.advance(chrono::Duration::minutes(5));
        let r = w.cycle().await;
        assert_eq!(r.totals().writes(), 0, "{r:?}");
    }
    assert_eq!(w.gitlab.issue(iid).unwrap()["description"], before);
    assert!(
        before.as_str().unwrap().starts_with(body),
        "the text people wrote is kept as written"
    );
}

async fn fatal_with_token(w: &mut World, token: String) -> String {
    let mut plugin = w.config.plugins[0].clone();
    plugin.gitlab.token =
        labsync::config::SecretSource::Inline(labsync::secret::Secret::new(token));
    let opts = CycleOptions {
        trigger: "sync-now",
        mode: CycleMode::Sync,
        http: world::settings(),
        stop: None,
        progress: None,
    };
    let r = run_plugin(&plugin, &mut w.store, &opts).await;
    assert!(r.fatal(), "{r:?}");
    r.projects[0].fatal.clone().unwrap_or_default()
}

#[tokio::test]
async fn refused_tokens_stop_the_cycle_with_a_clear_reason_and_write_nothing() {
    let mut w = World::new("").await;
    w.spira.add_incident(1, "Waits for a good token", 1);
    let expired = w.gitlab.add_token(
        "labsync-bot",
        &["api"],
        Some(chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()),
    );
    let read_only = w.gitlab.add_token("labsync-bot", &["read_api"], None);
    let cases = [
        (
            "glpat-not-a-real-token-000".to_string(),
            "rejected the token",
        ),
        (expired, "has expired"),
    ];
    for (token, reason) in cases {
        let message = fatal_with_token(&mut w, token).await;
        assert!(message.contains(reason), "{message}");
    }
    // A read-only token can read but not create: the item fails, clearly.
    let mut plugin = w.config.plugins[0].clone();
    plugin.gitlab.token =
        labsync::config::SecretSource::Inline(labsync::secret::Secret::new(read_only));
    let opts = CycleOptions {
        trigger: "sync-now",
        mode: CycleMode::Sync,
        http: world::settings(),
        stop: None,
        progress: None,
    };
    let r = run_plugin(&plugin, &mut w.store, &opts).await;
    let said = format!("{:?}", r.projects[0]);
    assert!(said.contains("lacks the scope"), "{said}");
    assert!(w.gitlab.issues().is_empty());
}

#[tokio::test]
async fn a_gitlab_project_that_does_not_exist_is_named() {
    let mut w = World::new("").await;
    let mut plugin = w.config.plugins[0].clone();
    plugin.projects[0].gitlab_project = "demo/nope".into();
    w.store
        .apply_config(&labsync::config::Config {
            plugins: vec![plugin.clone()],
            ..w.config.clone()
        })
        .unwrap();
    let opts = CycleOptions {
        trigger: "sync-now",
        mode: CycleMode::Sync,
        http: world::settings(),
        stop: None,
        progress: None,
    };
    let r = run_plugin(&plugin, &mut w.store, &opts).await;
    let fatal = r.projects[0].fatal.clone().unwrap_or_default();
    assert!(
        fatal.contains("demo/nope") && fatal.contains("not found"),
        "{fatal}"
    );
}
