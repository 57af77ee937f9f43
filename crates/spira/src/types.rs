//! Spira REST v7 objects, with Spira's own field names (reference §2-§8).
//!
//! Writes send only the fields that have data (Spira's advice); on a PUT,
//! which is a full replacement, an absent field therefore clears it as a
//! `null` would. Fields we do not model are kept in `extra` so that a GET
//! followed by a PUT does not drop them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::dates;

/// Artifact type id of incidents, used in custom-property definitions.
pub const INCIDENT_ARTIFACT_TYPE: u32 = 3;

/// RemoteIncident.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Incident {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_status_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_type_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opener_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detected_release_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_release_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_release_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// HTML.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(with = "dates::optional", skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<DateTime<Utc>>,
    #[serde(with = "dates::optional", skip_serializing_if = "Option::is_none")]
    pub last_update_date: Option<DateTime<Utc>>,
    /// The optimistic-concurrency token, kept as the very string read: Spira
    /// compares it as serialized (RN v7 IN:7499), and servers differ in how
    /// many fraction digits they write, so it is never re-formatted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency_date: Option<String>,
    #[serde(with = "dates::optional", skip_serializing_if = "Option::is_none")]
    pub start_date: Option<DateTime<Utc>>,
    #[serde(with = "dates::optional", skip_serializing_if = "Option::is_none")]
    pub closed_date: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_properties: Option<Vec<CustomPropertyValue>>,
    // Display fields the server computes; never sent back.
    #[serde(skip_serializing)]
    pub incident_status_name: Option<String>,
    #[serde(skip_serializing)]
    pub incident_status_open_status: Option<bool>,
    #[serde(skip_serializing)]
    pub incident_type_name: Option<String>,
    #[serde(skip_serializing)]
    pub priority_name: Option<String>,
    #[serde(skip_serializing)]
    pub severity_name: Option<String>,
    #[serde(skip_serializing)]
    pub opener_name: Option<String>,
    #[serde(skip_serializing)]
    pub owner_name: Option<String>,
    #[serde(skip_serializing)]
    pub detected_release_version_number: Option<String>,
    #[serde(skip_serializing)]
    pub resolved_release_version_number: Option<String>,
    /// Fields not modelled above, sent back unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Incident {
    /// The value of a Text custom property, by its number (1-30).
    pub fn custom_text(&self, property_number: u32) -> Option<&str> {
        self.custom_properties
            .as_ref()?
            .iter()
            .find(|p| p.property_number == property_number)?
            .string_value
            .as_deref()
    }

    /// Sets (or with `None` clears) a Text custom property. Spira wants the
    /// property's `Definition` (CustomPropertyId, ProjectTemplateId,
    /// ArtifactTypeId) with the value (API-Overview, "Required Fields for
    /// Custom Property type Text"), so the definition read from the
    /// template is sent along.
    pub fn set_custom_text(&mut self, property: &CustomPropertyDefinition, value: Option<String>) {
        let props = self.custom_properties.get_or_insert_with(Vec::new);
        let number = property.property_number;
        match props.iter_mut().find(|p| p.property_number == number) {
            Some(p) => {
                p.string_value = value;
                p.definition = Some(property.clone());
            }
            None => props.push(CustomPropertyValue {
                property_number: number,
                string_value: value,
                definition: Some(property.clone()),
                ..CustomPropertyValue::default()
            }),
        }
    }
}

/// RemoteArtifactCustomProperty: one property's value on an artifact. Spira
/// matches entries by `PropertyNumber`; a null value clears the property.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CustomPropertyValue {
    pub property_number: u32,
    pub string_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integer_value: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boolean_value: Option<bool>,
    #[serde(with = "dates::optional", skip_serializing_if = "Option::is_none")]
    pub date_time_value: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimal_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integer_list_value: Option<Vec<i64>>,
    /// Sent as the three ids Spira needs to find the definition.
    #[serde(
        serialize_with = "definition_ids",
        skip_serializing_if = "Option::is_none"
    )]
    pub definition: Option<CustomPropertyDefinition>,
}

fn definition_ids<S: serde::Serializer>(
    definition: &Option<CustomPropertyDefinition>,
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Ids {
        custom_property_id: Option<u32>,
        project_template_id: Option<u32>,
        artifact_type_id: Option<u32>,
    }
    definition
        .as_ref()
        .map(|d| Ids {
            custom_property_id: d.custom_property_id,
            project_template_id: d.project_template_id,
            artifact_type_id: d.artifact_type_id,
        })
        .serialize(s)
}

/// RemoteCustomProperty: a property's definition on a template.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CustomPropertyDefinition {
    pub custom_property_id: Option<u32>,
    pub project_template_id: Option<u32>,
    pub artifact_type_id: Option<u32>,
    pub name: String,
    /// "Custom_01".
    pub custom_property_field_name: Option<String>,
    /// 1 = Text, 2 = Integer, ... (reference §7).
    pub custom_property_type_id: Option<u32>,
    pub custom_property_type_name: Option<String>,
    pub property_number: u32,
    pub is_deleted: bool,
}

/// RemoteComment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Comment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u32>,
    /// The author's full name.
    #[serde(skip_serializing)]
    pub user_name: Option<String>,
    pub text: String,
    #[serde(with = "dates::optional", skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<DateTime<Utc>>,
    #[serde(skip_serializing)]
    pub is_deleted: bool,
}

/// RemoteRelease.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Release {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<u32>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub version_number: String,
    pub active: bool,
    /// 1 Planned, 2 In Progress, 3 Completed, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_status_id: Option<u32>,
    /// 1 Major, 2 Minor, 3 Iteration, 4 Phase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_type_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<u32>,
    #[serde(with = "dates::optional", skip_serializing_if = "Option::is_none")]
    pub start_date: Option<DateTime<Utc>>,
    #[serde(with = "dates::optional", skip_serializing_if = "Option::is_none")]
    pub end_date: Option<DateTime<Utc>>,
    #[serde(with = "dates::optional", skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<DateTime<Utc>>,
    #[serde(with = "dates::optional", skip_serializing_if = "Option::is_none")]
    pub last_update_date: Option<DateTime<Utc>>,
    /// Kept as read, never re-formatted (see [`Incident::concurrency_date`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency_date: Option<String>,
    #[serde(skip_serializing)]
    pub release_status_name: Option<String>,
    #[serde(skip_serializing)]
    pub release_type_name: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// RemoteUser, and RemoteProjectUser (which adds the project role).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct User {
    pub user_id: u32,
    /// The login.
    pub user_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub full_name: Option<String>,
    pub email_address: Option<String>,
    pub active: bool,
    pub admin: bool,
    pub project_id: Option<u32>,
    pub project_role_id: Option<u32>,
    pub project_role_name: Option<String>,
}

/// RemoteProject.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Project {
    pub project_id: u32,
    pub project_template_id: u32,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
}

/// RemoteIncidentStatus. Spira calls the open flag `Open` (not `IsOpenStatus`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IncidentStatus {
    pub incident_status_id: u32,
    pub name: String,
    pub active: bool,
    pub open: bool,
}

/// RemoteIncidentType.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IncidentType {
    pub incident_type_id: u32,
    pub name: String,
    pub active: bool,
    pub issue: bool,
    pub risk: bool,
    pub default: bool,
}

/// RemoteIncidentPriority.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Priority {
    pub priority_id: u32,
    pub name: String,
    pub active: bool,
    pub color: Option<String>,
    pub score: Option<i64>,
}

/// RemoteIncidentSeverity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Severity {
    pub severity_id: u32,
    pub name: String,
    pub active: bool,
    pub color: Option<String>,
    pub score: Option<i64>,
}

/// RemoteFilter, one condition of a search (conditions are ANDed).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    pub property_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub int_value: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_range_value: Option<DateRange>,
}

/// DateRange: inclusive at both ends; either may be open. Without
/// `ConsiderTimes` Spira compares calendar dates only.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DateRange {
    #[serde(with = "dates::optional")]
    pub start_date: Option<DateTime<Utc>>,
    #[serde(with = "dates::optional")]
    pub end_date: Option<DateTime<Utc>>,
    pub consider_times: bool,
}
