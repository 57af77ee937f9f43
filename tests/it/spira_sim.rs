//! Raw HTTP checks of the Spira simulator against the contract
//! (../shared/reference/spira-api.md): field names, date format, status codes.

use labsync_sim::Seed;
use labsync_sim::faults::FaultRule;
use labsync_sim::spira::{SpiraSim, SpiraSimConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Raw {
    sim: SpiraSim,
    http: reqwest::Client,
}

impl Raw {
    async fn start(seed: Seed) -> Raw {
        Raw::with(SpiraSimConfig {
            seed,
            ..SpiraSimConfig::default()
        })
        .await
    }

    async fn with(cfg: SpiraSimConfig) -> Raw {
        Raw {
            sim: SpiraSim::start(cfg).await.unwrap(),
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/Services/v7_0/RestService.svc/{path}", self.sim.url())
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, String) {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("username", self.sim.login())
            .header("api-key", self.sim.api_key())
            .header("accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.text().await.unwrap())
    }

    /// Creates an incident; returns its path and the incident as read.
    async fn new_incident(&self) -> (String, Value) {
        let created = self
            .json(
                Method::POST,
                "projects/1/incidents",
                Some(json!({"Name": "Crash", "Description": "<p>boom</p>"})),
            )
            .await;
        let path = format!("projects/1/incidents/{}", created["IncidentId"]);
        let read = self.json(Method::GET, &path, None).await;
        (path, read)
    }

    async fn json(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, text) = self.call(method, path, body).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        serde_json::from_str(&text).unwrap()
    }
}

fn is_spira_date(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    // yyyy-MM-ddTHH:mm:ss.fffZ
    s.len() == 24
        && s.ends_with('Z')
        && s.as_bytes()[10] == b'T'
        && s.as_bytes()[19] == b'.'
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

#[tokio::test]
async fn all_three_credential_forms_work_and_a_bad_pair_gets_401() {
    let raw = Raw::start(Seed::Empty).await;
    let url = raw.url("projects");
    let ok = raw
        .http
        .get(&url)
        .basic_auth(raw.sim.login(), Some(raw.sim.api_key()))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let ok = raw
        .http
        .get(&url)
        .query(&[
            ("username", raw.sim.login()),
            ("api-key", raw.sim.api_key()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let (status, _) = raw.call(Method::GET, "projects", None).await;
    assert_eq!(status, StatusCode::OK);

    let bad = raw
        .http
        .get(&url)
        .header("username", raw.sim.login())
        .header("api-key", "{00000000-0000-0000-0000-000000000000}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert!(
        !bad.text().await.unwrap().is_empty(),
        "401 carries a message"
    );
    let none = raw.http.get(&url).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn incidents_have_spira_field_names_and_date_format() {
    let raw = Raw::start(Seed::Demo).await;
    let inc = raw.json(Method::GET, "projects/1/incidents/1", None).await;
    for field in [
        "IncidentId",
        "ProjectId",
        "IncidentStatusId",
        "IncidentStatusName",
        "IncidentStatusOpenStatus",
        "IncidentTypeId",
        "PriorityId",
        "PriorityName",
        "SeverityId",
        "OpenerId",
        "OpenerName",
        "OwnerId",
        "OwnerName",
        "Name",
        "Description",
        "CreationDate",
        "LastUpdateDate",
        "ConcurrencyDate",
        "ClosedDate",
        "DetectedReleaseId",
        "ResolvedReleaseId",
        "CustomProperties",
    ] {
        assert!(inc.get(field).is_some(), "missing {field}");
    }
    for field in ["CreationDate", "LastUpdateDate"] {
        assert!(is_spira_date(&inc[field]), "{field} = {}", inc[field]);
    }
    // The concurrency token: a date, written with seven fraction digits.
    let token = inc["ConcurrencyDate"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(token).is_ok(),
        "{token}"
    );
    assert_eq!(token.len(), 28, "{token}");
    assert_eq!(inc["OwnerName"], "Bob Developer");
    let custom = inc["CustomProperties"].as_array().unwrap();
    assert_eq!(custom[0]["PropertyNumber"], 1);
    assert_eq!(
        custom[0]["Definition"]["CustomPropertyFieldName"],
        "Custom_01"
    );

    let statuses = raw
        .json(Method::GET, "project-templates/1/incidents/statuses", None)
        .await;
    let open: Vec<&str> = statuses
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Open"] == true)
        .map(|s| s["Name"].as_str().unwrap())
        .collect();
    assert_eq!(open, ["New", "Open", "Assigned", "Reopen"]);
    assert!(
        statuses[0].get("IsOpenStatus").is_none(),
        "v7 calls it Open"
    );
}

#[tokio::test]
async fn create_echoes_the_submission_and_put_answers_200_without_a_body() {
    let raw = Raw::start(Seed::Empty).await;
    let sent = json!({"Name": "Crash", "Description": "<p>boom</p>", "PriorityId": 2});
    let created = raw
        .json(Method::POST, "projects/1/incidents", Some(sent))
        .await;
    let id = created["IncidentId"].as_u64().unwrap();
    // Not re-read: server-computed names are missing from the answer.
    assert!(created.get("PriorityName").is_none());
    let full = raw
        .json(Method::GET, &format!("projects/1/incidents/{id}"), None)
        .await;
    assert_eq!(full["PriorityName"], "2 - High");
    assert_eq!(full["IncidentStatusName"], "New");
    assert_eq!(full["OpenerName"], "System Administrator");

    let mut edit = full.clone();
    edit["Name"] = json!("Crash on start");
    let (status, body) = raw
        .call(
            Method::PUT,
            &format!("projects/1/incidents/{id}"),
            Some(edit.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_empty(), "PUT answers no body, got {body}");

    // The same (now stale) ConcurrencyDate again: refused.
    let (status, body) = raw
        .call(
            Method::PUT,
            &format!("projects/1/incidents/{id}"),
            Some(edit.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // The id comes from the body and is required.
    let mut no_id = raw
        .json(Method::GET, &format!("projects/1/incidents/{id}"), None)
        .await;
    no_id.as_object_mut().unwrap().remove("IncidentId");
    let (status, _) = raw
        .call(
            Method::PUT,
            &format!("projects/1/incidents/{id}"),
            Some(no_id),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn put_is_a_full_replacement() {
    let raw = Raw::start(Seed::Demo).await;
    let mut inc = raw.json(Method::GET, "projects/1/incidents/1", None).await;
    assert!(inc["OwnerId"].is_number());
    let obj = inc.as_object_mut().unwrap();
    obj.remove("OwnerId");
    obj.remove("PriorityId");
    let (status, _) = raw
        .call(Method::PUT, "projects/1/incidents/1", Some(inc))
        .await;
    assert_eq!(status, StatusCode::OK);
    let after = raw.json(Method::GET, "projects/1/incidents/1", None).await;
    assert!(after["OwnerId"].is_null(), "an absent field is cleared");
    assert!(after["PriorityId"].is_null());
    assert_eq!(after["IncidentTypeId"], 2, "the type is kept when absent");
}

#[tokio::test]
async fn dates_in_any_offset_are_stored_and_returned_as_utc() {
    let raw = Raw::start(Seed::Empty).await;
    let created = raw
        .json(
            Method::POST,
            "projects/1/incidents",
            Some(json!({
                "Name": "tz", "Description": "x",
                "StartDate": "2024-05-01T12:00:00+02:00",
                "ClosedDate": "2024-05-01T12:00:00",
            })),
        )
        .await;
    let id = created["IncidentId"].as_u64().unwrap();
    let inc = raw
        .json(Method::GET, &format!("projects/1/incidents/{id}"), None)
        .await;
    assert_eq!(inc["StartDate"], "2024-05-01T10:00:00.000Z");
    assert_eq!(
        inc["ClosedDate"], "2024-05-01T12:00:00.000Z",
        "no offset means UTC"
    );
}

#[tokio::test]
async fn search_pages_from_row_one_with_at_most_500_rows() {
    let raw = Raw::start(Seed::Empty).await;
    for n in 0..510 {
        raw.sim.add_incident(1, &format!("bulk {n}"), 2);
    }
    let page = raw
        .json(
            Method::POST,
            "projects/1/incidents/search?start_row=1&number_rows=1000&sort_by=IncidentId",
            Some(json!([])),
        )
        .await;
    assert_eq!(page.as_array().unwrap().len(), 500);
    assert_eq!(page[0]["IncidentId"], 1, "start_row is 1-based");
    let tail = raw
        .json(
            Method::POST,
            "projects/1/incidents/search?start_row=501&number_rows=500&sort_by=IncidentId",
            Some(json!([])),
        )
        .await;
    assert_eq!(tail.as_array().unwrap().len(), 10);
    let past = raw
        .json(
            Method::POST,
            "projects/1/incidents/search?start_row=2000&number_rows=500&sort_by=IncidentId",
            Some(json!([])),
        )
        .await;
    assert_eq!(past, json!([]));
    let count = raw
        .json(Method::GET, "projects/1/incidents/count", None)
        .await;
    assert_eq!(count, 510);
}

#[tokio::test]
async fn date_range_is_inclusive_and_ignores_times_unless_asked() {
    let raw = Raw::start(Seed::Empty).await;
    let id = raw.sim.add_incident(1, "dated", 2);
    let stored = raw.sim.incident(id).unwrap().last_update_date;
    let at = |d: chrono::DateTime<chrono::Utc>| labsync::spira::dates::format(&d);
    let search = |start: String, times: bool| {
        json!([{"PropertyName": "LastUpdateDate",
                "DateRangeValue": {"StartDate": start, "EndDate": null, "ConsiderTimes": times}}])
    };
    let path = "projects/1/incidents/search?start_row=1&number_rows=10&sort_by=LastUpdateDate";
    let exact = raw
        .json(Method::POST, path, Some(search(at(stored), true)))
        .await;
    assert_eq!(exact.as_array().unwrap().len(), 1, "inclusive at the start");
    let later = stored + chrono::Duration::milliseconds(1);
    let after = raw
        .json(Method::POST, path, Some(search(at(later), true)))
        .await;
    assert_eq!(after, json!([]));
    // Without ConsiderTimes only the calendar date counts.
    let same_day = raw
        .json(Method::POST, path, Some(search(at(later), false)))
        .await;
    assert_eq!(same_day.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn custom_property_search_is_a_substring_match() {
    let raw = Raw::start(Seed::Empty).await;
    for value in ["4", "42", "142", "7"] {
        raw.json(
            Method::POST,
            "projects/1/incidents",
            Some(json!({"Name": value, "Description": "x",
                "CustomProperties": [{"PropertyNumber": 1, "StringValue": value,
                    "Definition": {"CustomPropertyId": 13}}]})),
        )
        .await;
    }
    let found = raw
        .json(
            Method::POST,
            "projects/1/incidents/search?start_row=1&number_rows=50&sort_by=IncidentId",
            Some(json!([{"PropertyName": "Custom_01", "StringValue": "4"}])),
        )
        .await;
    assert_eq!(found.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn comments_post_an_array_and_list_oldest_first() {
    let raw = Raw::start(Seed::Demo).await;
    let added = raw
        .json(
            Method::POST,
            "projects/1/incidents/1/comments",
            Some(json!([
                {"Text": "now", "ArtifactId": 99},
                {"Text": "back-dated", "UserId": 4, "CreationDate": "2020-01-01T00:00:00.000Z"}
            ])),
        )
        .await;
    let added = added.as_array().unwrap();
    assert_eq!(added.len(), 2);
    assert!(added[0]["CommentId"].is_number());
    assert_eq!(added[0]["ArtifactId"], 1, "the path incident wins");
    let list = raw
        .json(Method::GET, "projects/1/incidents/1/comments", None)
        .await;
    let list = list.as_array().unwrap();
    assert_eq!(list[0]["Text"], "back-dated");
    assert_eq!(list[0]["UserName"], "Carol Lead");
    assert!(is_spira_date(&list[0]["CreationDate"]));
    assert_eq!(list.last().unwrap()["Text"], "now");
    let (status, _) = raw
        .call(Method::GET, "projects/1/incidents/999/comments", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_things_get_404_and_bad_artifact_names_406() {
    let raw = Raw::start(Seed::Empty).await;
    let (status, _) = raw
        .call(Method::GET, "projects/1/incidents/999", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = raw.call(Method::GET, "projects/77", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = raw
        .call(
            Method::GET,
            "project-templates/1/custom-properties/Widget",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    let props = raw
        .json(
            Method::GET,
            "project-templates/1/custom-properties/incident",
            None,
        )
        .await;
    assert_eq!(props[1]["Name"], "GitLab URL");
}

#[tokio::test]
async fn release_update_takes_the_id_from_the_body() {
    let raw = Raw::start(Seed::Demo).await;
    let mut rel = raw.json(Method::GET, "projects/1/releases/2", None).await;
    assert_eq!(rel["VersionNumber"], "1.0.1");
    rel["Name"] = json!("Sprint One");
    let (status, body) = raw
        .call(Method::PUT, "projects/1/releases", Some(rel.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.is_empty());
    let (status, _) = raw
        .call(Method::PUT, "projects/1/releases", Some(rel))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let after = raw.json(Method::GET, "projects/1/releases/2", None).await;
    assert_eq!(after["Name"], "Sprint One");
}

#[tokio::test]
async fn injected_faults_fail_requests_and_are_counted() {
    let raw = Raw::start(Seed::Empty).await;
    raw.sim.faults().set_route(
        SpiraSim::fault_key("GET", "/projects/{project_id}/users"),
        FaultRule {
            error_rate: 1.0,
            ..FaultRule::default()
        },
    );
    let (status, _) = raw.call(Method::GET, "projects/1/users", None).await;
    assert!(status.is_server_error());
    let (status, _) = raw.call(Method::GET, "projects/1", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(raw.sim.request_count("GET /projects/{project_id}/users"), 1);
    raw.sim.reset_counts();
    assert_eq!(raw.sim.request_count("GET"), 0);
    raw.sim.shutdown().await;
}

/// Reference §13 rows 1-2. Evidence: the v7.0 OpenAPI file in
/// Inflectra/mcp-server-spira (`SpiraRestAPI-v7.0-OpenAPI.json`):
/// `Release_Retrieve1` "Does not include iterations", `RemoteRelease` has
/// non-nullable `ReleaseTypeId`/`ReleaseStatusId`; Inflectra's GitLab
/// data-sync `DataSync.cs` sets type 3 (iteration) on every release it makes.
#[tokio::test]
async fn releases_list_leaves_iterations_out_and_a_create_needs_type_and_status() {
    let raw = Raw::start(Seed::Demo).await;
    // The demo seed holds "Release 1.0" (major) and "Sprint 1" (iteration).
    let listed = raw.json(Method::GET, "projects/1/releases", None).await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Release 1.0"]);
    let found = raw
        .json(
            Method::POST,
            "projects/1/releases/search?start_row=1&number_rows=10",
            Some(json!([])),
        )
        .await;
    assert_eq!(found.as_array().unwrap().len(), 2, "{found}");
    let by_name = raw
        .json(
            Method::POST,
            "projects/1/releases/search?start_row=1&number_rows=10",
            Some(json!([{"PropertyName": "Name", "StringValue": "sprint"}])),
        )
        .await;
    assert_eq!(by_name[0]["ReleaseTypeId"], 3, "{by_name}");
    let count = raw
        .json(Method::POST, "projects/1/releases/count", Some(json!([])))
        .await;
    assert_eq!(count, json!(2));

    let new = json!({"Name": "Sprint 2", "VersionNumber": "1.0.2", "Active": true,
        "StartDate": "2026-01-05T00:00:00.000Z", "EndDate": "2026-01-19T00:00:00.000Z"});
    let (status, body) = raw
        .call(Method::POST, "projects/1/releases", Some(new.clone()))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fault: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        fault["Messages"][0]["FieldName"], "ReleaseTypeId",
        "{fault}"
    );
    assert!(fault["Message"].is_string());
    let mut typed = new;
    typed["ReleaseTypeId"] = json!(3);
    typed["ReleaseStatusId"] = json!(1);
    let created = raw
        .json(Method::POST, "projects/1/releases", Some(typed))
        .await;
    assert_eq!(created["ReleaseTypeName"], "Iteration");
}

/// Reference §13 row 3. Evidence: Inflectra/spira-documentation
/// `docs/Developers/API-Overview.md`, "Required Fields for Custom Property
/// type Text": PropertyNumber, StringValue and Definition{CustomPropertyId,
/// ProjectTemplateId, ArtifactTypeId}. Without it the value is not stored.
#[tokio::test]
async fn a_text_property_without_its_definition_is_refused_and_not_stored() {
    let raw = Raw::start(Seed::Empty).await;
    let bare = json!({"Name": "x", "Description": "<p>x</p>",
        "CustomProperties": [{"PropertyNumber": 1, "StringValue": "g/p#1"}]});
    let (status, body) = raw
        .call(Method::POST, "projects/1/incidents", Some(bare))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let fault: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(fault["Messages"][0]["FieldName"], "Custom_01", "{fault}");
    assert!(raw.sim.incidents(1).is_empty(), "nothing stored");

    let full = json!({"Name": "x", "Description": "<p>x</p>",
        "CustomProperties": [{"PropertyNumber": 1, "StringValue": "g/p#1",
            "Definition": {"CustomPropertyId": 13, "ProjectTemplateId": 1, "ArtifactTypeId": 3}}]});
    let created = raw
        .json(Method::POST, "projects/1/incidents", Some(full))
        .await;
    let id = created["IncidentId"].as_u64().unwrap() as u32;
    assert_eq!(raw.sim.incident(id).unwrap().custom[&1], json!("g/p#1"));
}

/// Reference §13 rows 4-5. Evidence: spira-documentation release notes v7
/// IN:7499 (concurrency dates serialized and compared as strings) and
/// `docs/Developers/API-Overview.md`, "HTTP/1.1 409 Conflict": "This usually
/// means either no changes were made in this request, or …".
#[tokio::test]
async fn concurrency_date_is_compared_as_sent_and_a_put_that_changes_nothing_is_409() {
    let raw = Raw::start(Seed::Empty).await;
    let (path, mut edit) = raw.new_incident().await;
    let token = edit["ConcurrencyDate"].as_str().unwrap().to_string();
    // The same instant, written as most clients would (milliseconds).
    let reformatted = chrono::DateTime::parse_from_rfc3339(&token)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    assert_ne!(reformatted, token);
    edit["Name"] = json!("Crash on start");
    edit["ConcurrencyDate"] = json!(reformatted);
    let (status, body) = raw.call(Method::PUT, &path, Some(edit.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    edit["ConcurrencyDate"] = json!(token);
    let (status, body) = raw.call(Method::PUT, &path, Some(edit)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let same = raw.json(Method::GET, &path, None).await;
    let (status, body) = raw.call(Method::PUT, &path, Some(same)).await;
    assert_eq!(status, StatusCode::CONFLICT, "no changes: {body}");
    let after = raw.json(Method::GET, &path, None).await;
    assert_eq!(after["Name"], "Crash on start");
}

/// Reference §13 rows 8-9. Evidence: mcp-server-spira
/// `src/mcp_server_spira/utils/spira_client.py` reads ValidationFaultMessage
/// (FieldName + Message per item); spira-documentation release notes v7
/// IN:9108 (workflow field states applied on status changes);
/// API-Overview "Common Error Messages" (404 "Access Denied").
#[tokio::test]
async fn a_workflow_refuses_a_status_without_its_required_field_and_404_can_mean_access_denied() {
    let raw = Raw::start(Seed::Empty).await;
    raw.sim.require_for_status(5, "OwnerId");
    let (path, mut edit) = raw.new_incident().await;
    edit["IncidentStatusId"] = json!(5);
    let (status, body) = raw.call(Method::PUT, &path, Some(edit.clone())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let fault: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(fault["Messages"][0]["FieldName"], "OwnerId", "{fault}");
    edit["OwnerId"] = json!(3);
    let (status, body) = raw.call(Method::PUT, &path, Some(edit)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    raw.sim.set_access_denied_as_404(true);
    let denied = raw
        .http
        .get(raw.url("projects"))
        .header("username", raw.sim.login())
        .header("api-key", "{WRONG}")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::NOT_FOUND);
    assert!(denied.text().await.unwrap().contains("Access Denied"));
}

/// Reference §13 row 6. Evidence: spira-documentation release notes v5
/// IN:3204 (the API strips potentially dangerous HTML from incidents).
#[tokio::test]
async fn dangerous_html_is_stripped_from_descriptions() {
    let raw = Raw::start(Seed::Empty).await;
    let (path, mut edit) = raw.new_incident().await;
    edit["Description"] = json!(
        r#"<p onclick="x()">Hi<script>alert(1)</script> <a href="javascript:go()">there</a></p>"#
    );
    let (status, body) = raw.call(Method::PUT, &path, Some(edit)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = raw.json(Method::GET, &path, None).await;
    assert_eq!(after["Description"], "<p>Hi <a>there</a></p>");
}
