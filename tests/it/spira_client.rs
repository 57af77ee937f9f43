//! The Spira client against the simulator: every call, paging, the
//! LastUpdateDate window, concurrency, time zones, errors and retries.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use futures_util::{StreamExt, TryStreamExt};
use labsync::http::HttpSettings;
use labsync::secret::Secret;
use labsync::spira::{CustomPropertyDefinition, Incident, Release, SpiraClient, SpiraError, dates};
use labsync_sim::Seed;
use labsync_sim::faults::FaultRule;
use labsync_sim::spira::{SpiraSim, SpiraSimConfig};

fn fast() -> HttpSettings {
    HttpSettings {
        timeout: Duration::from_secs(10),
        max_retries: 3,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..HttpSettings::default()
    }
}

async fn start(cfg: SpiraSimConfig) -> (SpiraSim, SpiraClient) {
    let sim = SpiraSim::start(cfg).await.unwrap();
    let client = SpiraClient::new(
        &sim.url(),
        sim.login().to_string(),
        Secret::new(sim.api_key()),
        fast(),
    )
    .unwrap();
    (sim, client)
}

async fn demo() -> (SpiraSim, SpiraClient) {
    start(SpiraSimConfig::default()).await
}

async fn empty() -> (SpiraSim, SpiraClient) {
    start(SpiraSimConfig {
        seed: Seed::Empty,
        ..SpiraSimConfig::default()
    })
    .await
}

fn new_incident(name: &str) -> Incident {
    Incident {
        name: Some(name.to_string()),
        description: Some(format!("<p>{name}</p>")),
        ..Incident::default()
    }
}

/// The definitions of "GitLab Issue" (1) and "GitLab URL" (2), as read from
/// the template: a Text value is written with its definition.
async fn link_properties(
    client: &SpiraClient,
) -> (CustomPropertyDefinition, CustomPropertyDefinition) {
    let lookups = client.load_lookups(1).await.unwrap();
    (
        lookups.property("GitLab Issue").unwrap(),
        lookups.property("GitLab URL").unwrap(),
    )
}

async fn changed_ids(client: &SpiraClient, since: chrono::DateTime<Utc>) -> Vec<u32> {
    client
        .incidents_changed_since(1, since)
        .map_ok(|i| i.incident_id.unwrap())
        .try_collect()
        .await
        .unwrap()
}

const EPOCH: fn() -> chrono::DateTime<Utc> = || Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();

#[tokio::test]
async fn project_users_and_current_user() {
    let (sim, client) = demo().await;
    let project = client.get_project(sim.project_id()).await.unwrap();
    assert_eq!(project.name, "Web Shop");
    assert_eq!(project.project_template_id, 1);
    let me = client.current_user().await.unwrap();
    assert_eq!(me.user_name, "administrator");
    let users = client.project_users(1).await.unwrap();
    let bob = users.iter().find(|u| u.user_name == "bob").unwrap();
    assert_eq!(bob.full_name.as_deref(), Some("Bob Developer"));
    assert_eq!(bob.email_address.as_deref(), Some("bob@example.com"));
    assert_eq!(users.len(), 5);
}

#[tokio::test]
async fn lookups_are_loaded_once_with_open_flags_and_property_numbers() {
    let (sim, client) = demo().await;
    sim.reset_counts();
    let lookups = client.load_lookups(1).await.unwrap();
    assert_eq!(lookups.project_template_id, 1);
    assert_eq!(lookups.is_open(1), Some(true));
    assert_eq!(lookups.is_open(5), Some(false));
    assert_eq!(
        lookups.status_by_name("reopen").unwrap().incident_status_id,
        8
    );
    assert_eq!(lookups.priority(1).unwrap().name, "1 - Critical");
    assert_eq!(lookups.severities.len(), 4);
    assert_eq!(lookups.default_type().unwrap().name, "Incident");
    assert_eq!(lookups.property_number("GitLab Issue"), Some(1));
    assert_eq!(lookups.property_number("gitlab url"), Some(2));
    // One project read and one read per lookup list.
    assert_eq!(sim.request_count("GET"), 6);
}

#[tokio::test]
async fn get_incident_reads_names_and_utc_dates() {
    let (sim, client) = demo().await;
    let inc = client.get_incident(1, 1).await.unwrap();
    let stored = sim.incident(1).unwrap();
    assert_eq!(inc.name.as_deref(), Some(stored.name.as_str()));
    assert_eq!(inc.owner_name.as_deref(), Some("Bob Developer"));
    assert_eq!(inc.incident_status_open_status, Some(true));
    assert_eq!(inc.last_update_date, Some(stored.last_update_date));
    assert_eq!(
        inc.concurrency_date.as_deref().and_then(dates::parse),
        Some(stored.concurrency_date)
    );
}

#[tokio::test]
async fn create_returns_the_incident_as_stored_with_custom_properties() {
    let (sim, client) = empty().await;
    let mut draft = new_incident("Login fails");
    draft.priority_id = Some(2);
    draft.owner_id = Some(3);
    let (issue, url) = link_properties(&client).await;
    draft.set_custom_text(&issue, Some("17".into()));
    draft.set_custom_text(&url, Some("https://gitlab.example/g/p/-/issues/17".into()));
    let created = client.create_incident(1, &draft).await.unwrap();
    let id = created.incident_id.unwrap();
    assert_eq!(created.incident_status_name.as_deref(), Some("New"));
    assert_eq!(created.priority_name.as_deref(), Some("2 - High"));
    assert_eq!(created.owner_name.as_deref(), Some("Bob Developer"));
    assert_eq!(created.custom_text(1), Some("17"));
    assert!(
        created.concurrency_date.is_some(),
        "re-read: server fields present"
    );
    assert_eq!(sim.incident(id).unwrap().name, "Login fails");

    // Clearing one custom property leaves the other.
    let saved = client
        .update_incident_with(1, id, |i| i.set_custom_text(&url, None))
        .await
        .unwrap();
    assert_eq!(saved.custom_text(2), None);
    assert_eq!(saved.custom_text(1), Some("17"));
}

/// Reference §13 rows 4-5: the ConcurrencyDate goes back exactly as read
/// (the sim writes seven fraction digits), and a change that changes
/// nothing sends no PUT (Spira would answer 409).
#[tokio::test]
async fn updates_send_the_concurrency_date_as_read_and_skip_no_op_puts() {
    let (sim, client) = demo().await;
    let saved = client
        .update_incident_with(1, 1, |i| i.name = Some("Renamed".into()))
        .await
        .unwrap();
    assert_eq!(saved.name.as_deref(), Some("Renamed"));
    assert_eq!(sim.incident(1).unwrap().name, "Renamed");
    sim.reset_counts();
    let same = client
        .update_incident_with(1, 1, |i| i.name = Some("Renamed".into()))
        .await
        .unwrap();
    assert_eq!(same.name.as_deref(), Some("Renamed"));
    assert_eq!(sim.request_count("PUT"), 0, "no PUT for no change");
}

#[tokio::test]
async fn paging_runs_past_one_page_without_losing_or_repeating() {
    let (sim, client) = empty().await;
    for n in 0..1200 {
        sim.add_incident(1, &format!("bulk {n}"), 2);
    }
    sim.reset_counts();
    let ids = changed_ids(&client, EPOCH()).await;
    assert_eq!(ids.len(), 1200);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 1200);
    assert!(sim.request_count("POST /projects/{project_id}/incidents/search") >= 3);
}

#[tokio::test]
async fn small_pages_survive_edits_made_while_reading() {
    let (sim, client) = empty().await;
    let client = client.with_page_size(5);
    for n in 0..23 {
        sim.add_incident(1, &format!("item {n}"), 2);
    }
    let mut stream = Box::pin(client.incidents_changed_since(1, EPOCH()));
    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(stream.next().await.unwrap().unwrap().incident_id.unwrap());
    }
    // Somebody edits an item already read: with plain offsets every later
    // row would shift up one and one item would be skipped.
    sim.edit_incident(seen[0], |i| i.name.push_str(" (edited)"));
    while let Some(item) = stream.next().await {
        seen.push(item.unwrap().incident_id.unwrap());
    }
    let distinct: HashSet<u32> = seen.iter().copied().collect();
    assert_eq!(distinct.len(), 23, "every incident read: {seen:?}");
    // The edited one may come again, as its newer version.
    assert!(seen.len() <= 24);
}

#[tokio::test]
async fn last_update_filter_is_inclusive_at_its_start() {
    let (sim, client) = demo().await;
    sim.clock().advance(chrono::Duration::minutes(5));
    sim.edit_incident(2, |i| i.description.push_str("<p>more</p>"));
    let at = sim.incident(2).unwrap().last_update_date;
    assert_eq!(
        changed_ids(&client, at).await,
        vec![2],
        "updated exactly at `since`"
    );
    let after = at + chrono::Duration::milliseconds(1);
    assert!(changed_ids(&client, after).await.is_empty());
    let all = changed_ids(&client, EPOCH()).await;
    assert_eq!(all.len(), 4);
}

#[tokio::test]
async fn the_window_compares_times_not_just_dates() {
    let (sim, client) = demo().await;
    // Move to 10:00 UTC tomorrow, so both edits fall on one calendar day.
    let now = sim.clock().now();
    let ten = (now.date_naive() + chrono::Days::new(1))
        .and_hms_opt(10, 0, 0)
        .unwrap()
        .and_utc();
    sim.clock().advance(ten - now);
    sim.edit_incident(1, |i| i.name.push_str(" (morning)"));
    let morning = sim.incident(1).unwrap().last_update_date;
    sim.clock().advance(chrono::Duration::hours(1));
    sim.edit_incident(3, |i| i.name.push_str(" (later)"));
    // Spira's default (ConsiderTimes false) would return both: the client
    // asks for times to count.
    let since = morning + chrono::Duration::minutes(30);
    assert_eq!(since.date_naive(), morning.date_naive());
    assert_eq!(changed_ids(&client, since).await, vec![3]);
    // Oldest change first.
    assert_eq!(changed_ids(&client, morning).await, vec![1, 3]);
}

#[tokio::test]
async fn a_failing_change_stream_yields_the_error_and_ends() {
    let (sim, _) = demo().await;
    let client = SpiraClient::new(
        &sim.url(),
        "administrator".into(),
        Secret::new("{00000000-0000-0000-0000-000000000000}"),
        fast(),
    )
    .unwrap();
    let items: Vec<_> = client.incidents_changed_since(1, EPOCH()).collect().await;
    assert_eq!(items.len(), 1);
    assert!(matches!(items[0], Err(SpiraError::Unauthorized { .. })));
}

#[tokio::test]
async fn a_stale_update_is_a_concurrency_error() {
    let (sim, client) = demo().await;
    let mut mine = client.get_incident(1, 3).await.unwrap();
    sim.edit_incident(3, |i| i.description = "<p>human edit</p>".into());
    mine.name = Some("mine".into());
    let err = client.update_incident(1, &mine).await.unwrap_err();
    assert!(matches!(err, SpiraError::Concurrency { .. }), "{err}");
    assert!(err.to_string().contains("IN:3"), "{err}");
    assert_eq!(sim.incident(3).unwrap().description, "<p>human edit</p>");
}

#[tokio::test]
async fn update_with_rereads_and_merges_after_one_conflict() {
    let (sim, client) = demo().await;
    let calls = AtomicUsize::new(0);
    let saved = client
        .update_incident_with(1, 3, |i| {
            // A person saves the incident between our read and our write, once.
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                sim.edit_incident(3, |h| h.description = "<p>human edit</p>".into());
            }
            i.name = Some("renamed by sync".into());
        })
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(saved.name.as_deref(), Some("renamed by sync"));
    assert_eq!(
        saved.description.as_deref(),
        Some("<p>human edit</p>"),
        "both edits kept"
    );
}

#[tokio::test]
async fn two_conflicts_in_a_row_give_up_with_concurrency() {
    let (sim, client) = demo().await;
    let err = client
        .update_incident_with(1, 3, |i| {
            sim.edit_incident(3, |h| h.description.push('!'));
            i.name = Some("never saved".into());
        })
        .await
        .unwrap_err();
    assert!(matches!(err, SpiraError::Concurrency { .. }), "{err}");
    assert_ne!(sim.incident(3).unwrap().name, "never saved");
}

#[tokio::test]
async fn status_is_kept_when_the_template_forbids_api_status_changes() {
    let (sim, client) = start(SpiraSimConfig {
        bulk_edit_can_change_status: false,
        ..SpiraSimConfig::default()
    })
    .await;
    let saved = client
        .update_incident_with(1, 1, |i| {
            i.incident_status_id = Some(5);
            i.priority_id = Some(4);
        })
        .await
        .unwrap();
    assert_eq!(saved.incident_status_id, Some(2), "status silently kept");
    assert_eq!(saved.priority_id, Some(4), "other fields saved");
    let mut draft = new_incident("created closed?");
    draft.incident_status_id = Some(5);
    let created = client.create_incident(1, &draft).await.unwrap();
    assert_eq!(created.incident_status_name.as_deref(), Some("New"));

    sim.set_bulk_edit_can_change_status(true);
    let saved = client
        .update_incident_with(1, 1, |i| i.incident_status_id = Some(5))
        .await
        .unwrap();
    assert_eq!(saved.incident_status_id, Some(5));
    assert_eq!(saved.incident_status_open_status, Some(false));
}

#[tokio::test]
async fn dates_round_trip_as_utc() {
    let (sim, client) = demo().await;
    let closed = chrono::DateTime::parse_from_rfc3339("2024-05-01T12:30:00.250+02:00")
        .unwrap()
        .with_timezone(&Utc);
    let saved = client
        .update_incident_with(1, 4, |i| i.closed_date = Some(closed))
        .await
        .unwrap();
    assert_eq!(
        saved.closed_date,
        Some(
            Utc.with_ymd_and_hms(2024, 5, 1, 10, 30, 0).unwrap()
                + chrono::Duration::milliseconds(250)
        )
    );
    assert_eq!(sim.incident(4).unwrap().closed_date, Some(closed));
}

#[tokio::test]
async fn a_bad_key_is_a_clear_401_that_never_shows_the_key() {
    let (sim, _) = demo().await;
    let key = "{DEADBEEF-1111-2222-3333-444455556666}";
    let client =
        SpiraClient::new(&sim.url(), "administrator".into(), Secret::new(key), fast()).unwrap();
    let err = client.get_project(1).await.unwrap_err();
    assert!(matches!(err, SpiraError::Unauthorized { .. }), "{err:?}");
    let text = format!("{err} {err:?} {client:?}");
    assert!(!text.contains("DEADBEEF"), "{text}");
    assert!(text.contains("PR:1"), "{text}");
}

#[tokio::test]
async fn unknown_project_and_incident_are_not_found() {
    let (_sim, client) = demo().await;
    let err = client.get_incident(1, 999).await.unwrap_err();
    assert!(matches!(err, SpiraError::NotFound { .. }));
    assert_eq!(
        err.to_string(),
        "incident IN:999 of project PR:1 was not found in Spira"
    );
    let err = client.get_project(42).await.unwrap_err();
    assert!(matches!(err, SpiraError::NotFound { .. }), "{err}");
    let err = client.list_comments(1, 999).await.unwrap_err();
    assert!(matches!(err, SpiraError::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn reads_are_retried_through_5xx_and_broken_answers() {
    let (sim, client) = demo().await;
    let route = SpiraSim::fault_key("GET", "/projects/{project_id}/incidents/{incident_id}");
    sim.faults().set_route(
        route.clone(),
        FaultRule {
            error_rate: 1.0,
            ..FaultRule::default()
        },
    );
    let err = client.get_incident(1, 1).await.unwrap_err();
    assert!(matches!(err, SpiraError::Server { .. }), "{err}");
    assert!(err.is_transient());
    assert_eq!(
        sim.request_count("GET /projects/{project_id}/incidents/{incident_id}"),
        4
    );

    // Some 5xx and cut connections: with enough retries every read succeeds.
    let patient = SpiraClient::new(
        &sim.url(),
        sim.login().to_string(),
        Secret::new(sim.api_key()),
        HttpSettings {
            max_retries: 8,
            ..fast()
        },
    )
    .unwrap();
    sim.faults().set_route(
        route,
        FaultRule {
            error_rate: 0.15,
            drop_rate: 0.15,
            ..FaultRule::default()
        },
    );
    for _ in 0..20 {
        patient.get_incident(1, 1).await.unwrap();
    }
    let counts = sim.faults().counts();
    assert!(counts.errors.load(Ordering::Relaxed) + counts.drops.load(Ordering::Relaxed) > 0);
}

#[tokio::test]
async fn a_create_is_not_repeated_after_a_5xx() {
    let (sim, client) = empty().await;
    sim.faults().set_route(
        SpiraSim::fault_key("POST", "/projects/{project_id}/incidents"),
        FaultRule {
            error_rate: 1.0,
            ..FaultRule::default()
        },
    );
    sim.reset_counts();
    let err = client
        .create_incident(1, &new_incident("only once"))
        .await
        .unwrap_err();
    assert!(matches!(err, SpiraError::Server { .. }), "{err}");
    assert_eq!(
        sim.request_count("POST /projects/{project_id}/incidents"),
        1
    );
    assert!(sim.incidents(1).is_empty());
}

#[tokio::test]
async fn comments_list_add_and_since() {
    let (sim, client) = demo().await;
    let comments = client.list_comments(1, 1).await.unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0].user_name.as_deref(), Some("Alice Tester"));
    assert!(comments[0].creation_date < comments[1].creation_date);
    let last = comments[1].comment_id.unwrap();

    let added = client
        .add_comment(1, 1, "<p>From GitLab</p>", Some(4))
        .await
        .unwrap();
    assert_eq!(added.user_id, Some(4));
    assert_eq!(added.user_name.as_deref(), Some("Carol Lead"));
    let mine = client
        .add_comment(1, 1, "<p>by the api user</p>", None)
        .await
        .unwrap();
    assert_eq!(mine.user_id, Some(1));

    let new = client.comments_after(1, 1, last).await.unwrap();
    let texts: Vec<_> = new.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, ["<p>From GitLab</p>", "<p>by the api user</p>"]);
    assert_eq!(sim.comments(1).len(), 4);
}

#[tokio::test]
async fn a_comment_moves_last_update_only_when_spira_does_so() {
    for bumps in [false, true] {
        let (sim, client) = start(SpiraSimConfig {
            comment_bumps_last_update: bumps,
            ..SpiraSimConfig::default()
        })
        .await;
        sim.clock().advance(chrono::Duration::minutes(1));
        let watermark = sim.clock().now();
        sim.add_comment(2, 3, "<p>a human comment</p>");
        let changed = changed_ids(&client, watermark).await;
        assert_eq!(changed == vec![2], bumps, "bumps={bumps}: {changed:?}");
        // Either way the comment is found through the comment list.
        let seen = client.comments_after(1, 2, 0).await.unwrap();
        assert!(seen.iter().any(|c| c.text == "<p>a human comment</p>"));
    }
}

#[tokio::test]
async fn find_by_custom_property_checks_equality() {
    let (_sim, client) = empty().await;
    let (issue, _) = link_properties(&client).await;
    for value in ["4", "42", "142"] {
        let mut draft = new_incident(value);
        draft.set_custom_text(&issue, Some(value.to_string()));
        client.create_incident(1, &draft).await.unwrap();
    }
    let found = client
        .find_incidents_by_custom_property(1, 1, "4")
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name.as_deref(), Some("4"));
    assert!(
        client
            .find_incidents_by_custom_property(1, 1, "9")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn releases_list_get_create_update() {
    let (sim, client) = demo().await;
    let all = client.releases(1).await.unwrap();
    let names: Vec<_> = all.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Release 1.0", "Sprint 1"]);
    let sprint = client.get_release(1, 2).await.unwrap();
    assert_eq!(sprint.version_number, "1.0.1");
    assert_eq!(sprint.release_status_name.as_deref(), Some("Completed"));

    let start = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
    let created = client
        .create_release(
            1,
            &Release {
                name: "Sprint 2".into(),
                version_number: "1.0.2".into(),
                active: true,
                release_type_id: Some(3),
                release_status_id: Some(1),
                start_date: Some(start),
                end_date: Some(start + chrono::Duration::days(14)),
                ..Release::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(created.release_type_name.as_deref(), Some("Iteration"));
    assert_eq!(created.start_date, Some(start));

    let mut edit = created.clone();
    edit.release_status_id = Some(2);
    client.update_release(1, &edit).await.unwrap();
    assert_eq!(
        client
            .get_release(1, created.release_id.unwrap())
            .await
            .unwrap()
            .release_status_id,
        Some(2)
    );
    // The same ConcurrencyDate again is stale now.
    let err = client.update_release(1, &edit).await.unwrap_err();
    assert!(matches!(err, SpiraError::Concurrency { .. }), "{err}");
    assert_eq!(sim.releases(1).len(), 3);
}

#[tokio::test]
async fn delete_hides_the_incident() {
    let (sim, client) = demo().await;
    client.delete_incident(1, 4).await.unwrap();
    assert!(matches!(
        client.get_incident(1, 4).await.unwrap_err(),
        SpiraError::NotFound { .. }
    ));
    assert_eq!(sim.incidents(1).len(), 3);
}

#[tokio::test]
async fn a_non_spira_answer_is_a_decode_error_and_the_key_stays_out_of_urls() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let log = log.clone();
        async move {
            let key = req
                .headers()
                .get("api-key")
                .map(|v| v.to_str().unwrap().to_string());
            log.lock()
                .unwrap()
                .push(format!("{} key-header={key:?}", req.uri()));
            (
                [("content-type", "text/html")],
                "<html><body>Sign in</body></html>",
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = SpiraClient::new(
        &format!("http://{addr}"),
        "administrator".into(),
        Secret::new("{KEY-KEY-KEY}"),
        fast(),
    )
    .unwrap();
    let err = client.get_project(1).await.unwrap_err();
    assert!(matches!(err, SpiraError::Decode { .. }), "{err}");
    assert!(err.to_string().contains("HTML"), "{err}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        ["/Services/v7_0/RestService.svc/projects/1 key-header=Some(\"{KEY-KEY-KEY}\")"]
    );
}

#[tokio::test]
async fn a_refused_write_is_a_validation_error_naming_item_and_field() {
    let (sim, client) = empty().await;
    let mut draft = new_incident("bad priority");
    draft.priority_id = Some(99);
    let err = client.create_incident(1, &draft).await.unwrap_err();
    assert!(matches!(err, SpiraError::Validation { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("new incident 'bad priority' in project PR:1"),
        "{text}"
    );
    assert!(text.contains("PriorityId"), "{text}");
    assert!(sim.incidents(1).is_empty());
}
