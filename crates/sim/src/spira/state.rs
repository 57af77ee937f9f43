//! The simulator's data, and how it is rendered as Spira's JSON.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::Value;

/// A refusal, answered as Spira does: a status and a plain-text message,
/// or, for a business or custom-property validation failure, Spira's
/// `ValidationFaultMessage` as JSON: `{"Message", "Messages": [{"FieldName",
/// "Message"}]}` (mcp-server-spira `src/mcp_server_spira/utils/spira_client.py`
/// reads this shape, and its XML twin, from real servers; reference §10).
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Field-level reasons of a validation fault; empty for a plain refusal.
    pub fields: Vec<(String, String)>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            fields: Vec::new(),
        }
    }
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
    /// 409: the ConcurrencyDate sent is not the stored one.
    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    /// A ValidationFaultMessage naming one field; the reason is only in
    /// `Messages`, the summary says nothing about it. The status is not
    /// documented (reference §12); 400, as for Spira's other refusals.
    pub(crate) fn validation(field: &str, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: "The artifact could not be saved: one or more fields are not valid".into(),
            fields: vec![(field.to_string(), message.into())],
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.fields.is_empty() {
            return (
                self.status,
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; charset=utf-8",
                )],
                self.message,
            )
                .into_response();
        }
        let messages: Vec<Value> = self
            .fields
            .iter()
            .map(|(field, message)| serde_json::json!({"FieldName": field, "Message": message}))
            .collect();
        let body = serde_json::json!({"Message": self.message, "Messages": messages});
        (self.status, axum::Json(body)).into_response()
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

#[derive(Clone, Debug, PartialEq)]
pub struct SimUser {
    pub user_id: u32,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// The user's RSS token, which is their api key.
    pub api_key: String,
    pub admin: bool,
    pub active: bool,
}

impl SimUser {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SimProject {
    pub project_id: u32,
    pub template_id: u32,
    pub name: String,
    pub members: Vec<u32>,
    pub creation_date: DateTime<Utc>,
}

/// One lookup row (status, type, priority, severity).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Lookup {
    pub id: u32,
    pub name: String,
    /// Statuses: open; types: default.
    pub flag: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SimCustomProperty {
    pub custom_property_id: u32,
    pub property_number: u32,
    pub name: String,
    /// 1 = Text, 2 = Integer, ... (reference §7).
    pub type_id: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimIncident {
    pub incident_id: u32,
    pub project_id: u32,
    pub name: String,
    pub description: String,
    pub incident_status_id: u32,
    pub incident_type_id: u32,
    pub priority_id: Option<u32>,
    pub severity_id: Option<u32>,
    pub opener_id: u32,
    pub owner_id: Option<u32>,
    pub detected_release_id: Option<u32>,
    pub resolved_release_id: Option<u32>,
    pub verified_release_id: Option<u32>,
    pub creation_date: DateTime<Utc>,
    pub last_update_date: DateTime<Utc>,
    pub concurrency_date: DateTime<Utc>,
    pub start_date: Option<DateTime<Utc>>,
    pub closed_date: Option<DateTime<Utc>>,
    pub estimated_effort: Option<i64>,
    pub actual_effort: Option<i64>,
    pub remaining_effort: Option<i64>,
    pub fixed_build_id: Option<u32>,
    pub component_ids: Vec<u32>,
    pub test_run_step_ids: Vec<u32>,
    /// Custom property values by property number, as Spira's typed value.
    pub custom: BTreeMap<u32, Value>,
    pub is_deleted: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimComment {
    pub comment_id: u32,
    pub incident_id: u32,
    pub user_id: u32,
    pub text: String,
    pub creation_date: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimRelease {
    pub release_id: u32,
    pub project_id: u32,
    pub parent_id: Option<u32>,
    pub name: String,
    pub description: Option<String>,
    pub version_number: String,
    pub active: bool,
    pub release_status_id: u32,
    pub release_type_id: u32,
    pub creator_id: u32,
    pub owner_id: Option<u32>,
    pub start_date: DateTime<Utc>,
    pub end_date: DateTime<Utc>,
    pub creation_date: DateTime<Utc>,
    pub last_update_date: DateTime<Utc>,
    pub concurrency_date: DateTime<Utc>,
}

/// Everything the simulator holds.
#[derive(Debug, Default)]
pub(crate) struct Db {
    pub users: Vec<SimUser>,
    pub projects: Vec<SimProject>,
    pub statuses: Vec<Lookup>,
    pub types: Vec<Lookup>,
    pub priorities: Vec<Lookup>,
    pub severities: Vec<Lookup>,
    pub custom_properties: Vec<SimCustomProperty>,
    pub incidents: BTreeMap<u32, SimIncident>,
    pub comments: Vec<SimComment>,
    pub releases: BTreeMap<u32, SimRelease>,
    pub next_incident: u32,
    pub next_comment: u32,
    pub next_release: u32,
    /// The last write time handed out: each write gets a later one, so a
    /// ConcurrencyDate always tells two saves apart.
    pub last_stamp: Option<DateTime<Utc>>,
    pub bulk_edit_can_change_status: bool,
    pub comment_bumps_last_update: bool,
    /// Fault injection, not Spira behaviour: incidents whose answers carry
    /// `"IncidentId": null`, to prove that bad data about one item stops
    /// only that item.
    pub ids_withheld: std::collections::BTreeSet<u32>,
    /// Fault injection: the answer to a release create carries no `ReleaseId`
    /// (the release is made all the same).
    pub created_release_id_withheld: bool,
    /// Refused credentials answered as 404 "Access Denied" (as the API docs
    /// describe) rather than 401 (as the v6 server code does).
    pub access_denied_as_404: bool,
    /// Workflow: fields an incident must have filled to enter a status
    /// (status id, field name such as "OwnerId").
    pub required_for_status: Vec<(u32, String)>,
    /// The server's UTC offset as applied to DateRange filters: a bound is
    /// read as the server's wall-clock time (zero: taken as UTC).
    pub date_filter_offset: chrono::Duration,
}

pub(crate) const RELEASE_STATUSES: [(u32, &str); 6] = [
    (1, "Planned"),
    (2, "In Progress"),
    (3, "Completed"),
    (4, "Closed"),
    (5, "Deferred"),
    (6, "Cancelled"),
];
pub(crate) const RELEASE_TYPES: [(u32, &str); 4] = [
    (1, "Major Release"),
    (2, "Minor Release"),
    (3, "Iteration"),
    (4, "Phase"),
];

/// How the simulator writes a ConcurrencyDate: .NET's round-trip form, seven
/// fraction digits ("2023-11-13T17:09:14.6200000Z"). Spira compares the
/// value as serialized (RN v7 IN:7499, "serialize using the Invariant
/// Culture"), and how many fraction digits a server writes varies (the API
/// docs' example has three, `.620Z`): a client must send back exactly the
/// string it read. Seven digits catch one that re-formats it.
pub(crate) fn concurrency_token(date: &DateTime<Utc>) -> String {
    // .NET ticks are 100 ns.
    format!(
        "{}.{:07}Z",
        date.format("%Y-%m-%dT%H:%M:%S"),
        date.timestamp_subsec_nanos() / 100
    )
}

/// Spira keeps milliseconds; so does the simulator, so that a date read back
/// compares equal to the stored one.
pub(crate) fn to_millis(date: DateTime<Utc>) -> DateTime<Utc> {
    date.duration_trunc(Duration::milliseconds(1))
        .unwrap_or(date)
}

impl Db {
    /// A write time: now (to the millisecond), later than any before.
    pub(crate) fn stamp(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        let mut at = to_millis(now);
        if let Some(last) = self.last_stamp
            && at <= last
        {
            at = last + Duration::milliseconds(1);
        }
        self.last_stamp = Some(at);
        at
    }

    pub(crate) fn user(&self, id: u32) -> Option<&SimUser> {
        self.users.iter().find(|u| u.user_id == id)
    }

    pub(crate) fn project_for(&self, caller: u32, project: u32) -> ApiResult<&SimProject> {
        let p = self
            .projects
            .iter()
            .find(|p| p.project_id == project)
            .ok_or_else(|| {
                ApiError::not_found(format!("The project PR:{project} does not exist"))
            })?;
        let admin = self.user(caller).is_some_and(|u| u.admin);
        if admin || p.members.contains(&caller) {
            Ok(p)
        } else {
            Err(ApiError::unauthorized(
                "You are not authorized to access the requested project",
            ))
        }
    }
}
