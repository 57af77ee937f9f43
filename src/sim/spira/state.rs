//! The simulator's data, and how it is rendered as Spira's JSON.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::{Value, json};

use crate::spira::dates;

/// A refusal, answered as Spira does: a status and a plain-text message.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError(StatusCode::BAD_REQUEST, message.into())
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError(StatusCode::NOT_FOUND, message.into())
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError(StatusCode::UNAUTHORIZED, message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.0,
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            self.1,
        )
            .into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

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
pub struct SimProject {
    pub project_id: u32,
    pub template_id: u32,
    pub name: String,
    pub members: Vec<u32>,
    pub creation_date: DateTime<Utc>,
}

/// One lookup row (status, type, priority, severity).
#[derive(Clone, Debug, PartialEq)]
pub struct Lookup {
    pub id: u32,
    pub name: String,
    /// Statuses: open; types: default.
    pub flag: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimCustomProperty {
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
pub struct Db {
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
}

pub const RELEASE_STATUSES: [(u32, &str); 6] = [
    (1, "Planned"),
    (2, "In Progress"),
    (3, "Completed"),
    (4, "Closed"),
    (5, "Deferred"),
    (6, "Cancelled"),
];
pub const RELEASE_TYPES: [(u32, &str); 4] = [
    (1, "Major Release"),
    (2, "Minor Release"),
    (3, "Iteration"),
    (4, "Phase"),
];

/// Spira keeps milliseconds; so does the simulator, so that a date read back
/// compares equal to the stored one.
pub fn to_millis(date: DateTime<Utc>) -> DateTime<Utc> {
    date.duration_trunc(Duration::milliseconds(1))
        .unwrap_or(date)
}

fn date(d: &DateTime<Utc>) -> Value {
    Value::String(dates::format(d))
}

fn opt_date(d: &Option<DateTime<Utc>>) -> Value {
    d.as_ref().map(date).unwrap_or(Value::Null)
}

impl Db {
    /// A write time: now (to the millisecond), later than any before.
    pub fn stamp(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        let mut at = to_millis(now);
        if let Some(last) = self.last_stamp
            && at <= last
        {
            at = last + Duration::milliseconds(1);
        }
        self.last_stamp = Some(at);
        at
    }

    pub fn user(&self, id: u32) -> Option<&SimUser> {
        self.users.iter().find(|u| u.user_id == id)
    }

    fn user_name(&self, id: Option<u32>) -> Value {
        id.and_then(|id| self.user(id))
            .map(|u| Value::String(u.full_name()))
            .unwrap_or(Value::Null)
    }

    /// The project, if it exists and `caller` is a member (or an admin).
    pub fn project_for(&self, caller: u32, project: u32) -> ApiResult<&SimProject> {
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

    pub fn lookup_name(list: &[Lookup], id: Option<u32>) -> Value {
        id.and_then(|id| list.iter().find(|l| l.id == id))
            .map(|l| Value::String(l.name.clone()))
            .unwrap_or(Value::Null)
    }

    fn release_version(&self, id: Option<u32>) -> Value {
        id.and_then(|id| self.releases.get(&id))
            .map(|r| Value::String(r.version_number.clone()))
            .unwrap_or(Value::Null)
    }

    pub fn custom_property_json(&self, prop: &SimCustomProperty, value: Option<&Value>) -> Value {
        let value = value.cloned().unwrap_or(Value::Null);
        let field = |wanted: &[u32]| {
            if wanted.contains(&prop.type_id) {
                value.clone()
            } else {
                Value::Null
            }
        };
        json!({
            "PropertyNumber": prop.property_number,
            "StringValue": field(&[1, 9]),
            "IntegerValue": field(&[2, 6, 8, 10, 12]),
            "BooleanValue": field(&[4]),
            "DateTimeValue": field(&[5, 11]),
            "DecimalValue": field(&[3]),
            "IntegerListValue": field(&[7]),
            "Definition": self.definition_json(prop),
        })
    }

    pub fn definition_json(&self, prop: &SimCustomProperty) -> Value {
        let type_name = match prop.type_id {
            1 => "Text",
            2 => "Integer",
            3 => "Decimal",
            4 => "Boolean",
            5 => "Date",
            6 => "List",
            7 => "MultiList",
            8 => "User",
            _ => "Other",
        };
        json!({
            "CustomPropertyId": prop.custom_property_id,
            "ProjectTemplateId": 1,
            "ArtifactTypeId": 3,
            "Name": prop.name,
            "CustomList": null,
            "CustomPropertyFieldName": format!("Custom_{:02}", prop.property_number),
            "CustomPropertyTypeId": prop.type_id,
            "CustomPropertyTypeName": type_name,
            "IsDeleted": false,
            "PropertyNumber": prop.property_number,
            "SystemDataType": null,
            "Options": [],
            "Position": prop.property_number,
            "Description": null,
        })
    }

    /// RemoteIncident, every field present (null when empty), as Spira sends it.
    pub fn incident_json(&self, i: &SimIncident) -> Value {
        let status = self.statuses.iter().find(|s| s.id == i.incident_status_id);
        let custom: Vec<Value> = self
            .custom_properties
            .iter()
            .map(|p| self.custom_property_json(p, i.custom.get(&p.property_number)))
            .collect();
        let mut head = json!({
            "IncidentId": i.incident_id,
            "ProjectId": i.project_id,
            "ProjectGuid": format!("{{00000000-0000-0000-0000-{:012}}}", i.project_id),
            "ArtifactTypeId": 3,
            "Guid": format!("{{00000000-0000-0003-0000-{:012}}}", i.incident_id),
            "PriorityId": i.priority_id,
            "PriorityName": Self::lookup_name(&self.priorities, i.priority_id),
            "SeverityId": i.severity_id,
            "SeverityName": Self::lookup_name(&self.severities, i.severity_id),
            "IncidentStatusId": i.incident_status_id,
            "IncidentStatusName": status.map(|s| s.name.clone()),
            "IncidentStatusOpenStatus": status.map(|s| s.flag),
            "IncidentTypeId": i.incident_type_id,
            "IncidentTypeName": Self::lookup_name(&self.types, Some(i.incident_type_id)),
            "OpenerId": i.opener_id,
            "OpenerName": self.user_name(Some(i.opener_id)),
            "OwnerId": i.owner_id,
            "OwnerName": self.user_name(i.owner_id),
            "TestRunStepIds": i.test_run_step_ids,
            "DetectedReleaseId": i.detected_release_id,
            "DetectedReleaseVersionNumber": self.release_version(i.detected_release_id),
            "ResolvedReleaseId": i.resolved_release_id,
            "ResolvedReleaseVersionNumber": self.release_version(i.resolved_release_id),
            "VerifiedReleaseId": i.verified_release_id,
            "VerifiedReleaseVersionNumber": self.release_version(i.verified_release_id),
            "ComponentIds": i.component_ids,
            "FixedBuildId": i.fixed_build_id,
            "DetectedBuildId": null,
        });
        // Two halves: one json! of this size exceeds the macro recursion limit.
        let rest = json!({
            "Name": i.name,
            "Description": i.description,
            "Tags": null,
            "CreationDate": date(&i.creation_date),
            "LastUpdateDate": date(&i.last_update_date),
            "ConcurrencyDate": date(&i.concurrency_date),
            "StartDate": opt_date(&i.start_date),
            "EndDate": null,
            "ClosedDate": opt_date(&i.closed_date),
            "CompletionPercent": 0,
            "EstimatedEffort": i.estimated_effort,
            "ActualEffort": i.actual_effort,
            "RemainingEffort": i.remaining_effort,
            "ProjectedEffort": null,
            "CustomProperties": custom,
            "IsAttachments": false,
        });
        if let (Some(obj), Value::Object(more)) = (head.as_object_mut(), rest) {
            obj.extend(more);
        }
        head
    }

    /// RemoteComment.
    pub fn comment_json(&self, c: &SimComment) -> Value {
        json!({
            "CommentId": c.comment_id,
            "ArtifactId": c.incident_id,
            "Guid": format!("{{00000000-0000-00c0-0000-{:012}}}", c.comment_id),
            "UserId": c.user_id,
            "UserGuid": null,
            "UserName": self.user_name(Some(c.user_id)),
            "Text": c.text,
            "CreationDate": date(&c.creation_date),
            "IsDeleted": false,
            "IsPermanent": false,
        })
    }

    /// RemoteRelease.
    pub fn release_json(&self, r: &SimRelease) -> Value {
        let name_of = |list: &[(u32, &str)], id: u32| {
            list.iter()
                .find(|(i, _)| *i == id)
                .map(|(_, n)| n.to_string())
        };
        json!({
            "ReleaseId": r.release_id,
            "ProjectId": r.project_id,
            "ArtifactTypeId": 4,
            "IndentLevel": if r.parent_id.is_some() { "AAAAAB" } else { "AAA" },
            "Name": r.name,
            "Description": r.description,
            "VersionNumber": r.version_number,
            "FullName": format!("{} - {}", r.version_number, r.name),
            "Active": r.active,
            "ReleaseStatusId": r.release_status_id,
            "ReleaseStatusName": name_of(&RELEASE_STATUSES, r.release_status_id),
            "ReleaseTypeId": r.release_type_id,
            "ReleaseTypeName": name_of(&RELEASE_TYPES, r.release_type_id),
            "CreatorId": r.creator_id,
            "CreatorName": self.user_name(Some(r.creator_id)),
            "OwnerId": r.owner_id,
            "OwnerName": self.user_name(r.owner_id),
            "StartDate": date(&r.start_date),
            "EndDate": date(&r.end_date),
            "CreationDate": date(&r.creation_date),
            "LastUpdateDate": date(&r.last_update_date),
            "ConcurrencyDate": date(&r.concurrency_date),
            "ResourceCount": 0,
            "DaysNonWorking": 0,
            "CustomProperties": [],
            "IsAttachments": false,
            "Tags": null,
        })
    }

    /// RemoteUser, or RemoteProjectUser when a project is given.
    pub fn user_json(&self, u: &SimUser, project: Option<u32>) -> Value {
        let mut v = json!({
            "UserId": u.user_id,
            "UserGuid": format!("{{00000000-0000-0001-0000-{:012}}}", u.user_id),
            "FirstName": u.first_name,
            "LastName": u.last_name,
            "MiddleInitial": null,
            "UserName": u.login,
            "EmailAddress": u.email,
            "Active": u.active,
            "Admin": u.admin,
            "Approved": true,
            "Locked": false,
            "Department": null,
            "LdapDn": null,
            // Spira returns the RSS token only to its owner; the sim never does.
            "RssToken": null,
            "FullName": u.full_name(),
        });
        if let (Some(p), Some(obj)) = (project, v.as_object_mut()) {
            obj.insert("ProjectId".into(), json!(p));
            obj.insert("ProjectRoleId".into(), json!(if u.admin { 1 } else { 4 }));
            obj.insert(
                "ProjectRoleName".into(),
                json!(if u.admin { "Product Owner" } else { "Tester" }),
            );
        }
        v
    }
}
