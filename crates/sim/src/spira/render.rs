//! How the simulator's records look as Spira's JSON: every field present,
//! null when empty, dates as `yyyy-MM-ddTHH:mm:ss.fffZ`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::state::{
    Db, Lookup, RELEASE_STATUSES, RELEASE_TYPES, SimComment, SimCustomProperty, SimIncident,
    SimRelease, SimUser, concurrency_token,
};
use crate::spira::dates;

fn date(d: &DateTime<Utc>) -> Value {
    Value::String(dates::format(d))
}

fn opt_date(d: &Option<DateTime<Utc>>) -> Value {
    d.as_ref().map(date).unwrap_or(Value::Null)
}

impl Db {
    fn user_name(&self, id: Option<u32>) -> Value {
        id.and_then(|id| self.user(id))
            .map(|u| Value::String(u.full_name()))
            .unwrap_or(Value::Null)
    }

    /// The project, if it exists and `caller` is a member (or an admin).
    pub(crate) fn lookup_name(list: &[Lookup], id: Option<u32>) -> Value {
        id.and_then(|id| list.iter().find(|l| l.id == id))
            .map(|l| Value::String(l.name.clone()))
            .unwrap_or(Value::Null)
    }

    fn release_version(&self, id: Option<u32>) -> Value {
        id.and_then(|id| self.releases.get(&id))
            .map(|r| Value::String(r.version_number.clone()))
            .unwrap_or(Value::Null)
    }

    pub(crate) fn custom_property_json(
        &self,
        prop: &SimCustomProperty,
        value: Option<&Value>,
    ) -> Value {
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

    pub(crate) fn definition_json(&self, prop: &SimCustomProperty) -> Value {
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
    pub(crate) fn incident_json(&self, i: &SimIncident) -> Value {
        let status = self.statuses.iter().find(|s| s.id == i.incident_status_id);
        let custom: Vec<Value> = self
            .custom_properties
            .iter()
            .map(|p| self.custom_property_json(p, i.custom.get(&p.property_number)))
            .collect();
        let id = (!self.ids_withheld.contains(&i.incident_id)).then_some(i.incident_id);
        let mut head = json!({
            "IncidentId": id,
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
            "ConcurrencyDate": concurrency_token(&i.concurrency_date),
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
    pub(crate) fn comment_json(&self, c: &SimComment) -> Value {
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
    pub(crate) fn release_json(&self, r: &SimRelease) -> Value {
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
            "ConcurrencyDate": concurrency_token(&r.concurrency_date),
            "ResourceCount": 0,
            "DaysNonWorking": 0,
            "CustomProperties": [],
            "IsAttachments": false,
            "Tags": null,
        })
    }

    /// RemoteUser, or RemoteProjectUser when a project is given.
    pub(crate) fn user_json(&self, u: &SimUser, project: Option<u32>) -> Value {
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
