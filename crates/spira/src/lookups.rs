//! The project, its users, and the template lookups (statuses, types, priorities, severities, incident custom
//! properties), read once per sync cycle into [`Lookups`].

use super::client::SpiraClient;
use super::error::SpiraError;
use super::types::{
    CustomPropertyDefinition, INCIDENT_ARTIFACT_TYPE, IncidentStatus, IncidentType, Priority,
    Severity,
};
use super::types::{Project, User};

/// Everything the engine looks up by id or name during one cycle.
#[derive(Clone, Debug, Default)]
pub struct Lookups {
    pub project_template_id: u32,
    pub statuses: Vec<IncidentStatus>,
    pub types: Vec<IncidentType>,
    pub priorities: Vec<Priority>,
    pub severities: Vec<Severity>,
    pub custom_properties: Vec<CustomPropertyDefinition>,
}

impl Lookups {
    pub fn status(&self, id: u32) -> Option<&IncidentStatus> {
        self.statuses.iter().find(|s| s.incident_status_id == id)
    }

    /// Whether the status counts as open; `None` for an unknown status.
    pub fn is_open(&self, status_id: u32) -> Option<bool> {
        self.status(status_id).map(|s| s.open)
    }

    pub fn status_by_name(&self, name: &str) -> Option<&IncidentStatus> {
        self.statuses
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name.trim()))
    }

    pub fn priority(&self, id: u32) -> Option<&Priority> {
        self.priorities.iter().find(|p| p.priority_id == id)
    }

    pub fn default_type(&self) -> Option<&IncidentType> {
        self.types.iter().find(|t| t.default)
    }

    /// The number (1-30) of the incident custom property with this name,
    /// e.g. "GitLab Issue".
    pub fn property_number(&self, name: &str) -> Option<u32> {
        self.custom_properties
            .iter()
            .find(|p| !p.is_deleted && p.name.eq_ignore_ascii_case(name.trim()))
            .map(|p| p.property_number)
    }

    /// The definition of the incident custom property with this name, with
    /// the template and artifact type filled in: what a write of its value
    /// must carry as `Definition`.
    pub fn property(&self, name: &str) -> Option<CustomPropertyDefinition> {
        let mut found = self
            .custom_properties
            .iter()
            .find(|p| !p.is_deleted && p.name.eq_ignore_ascii_case(name.trim()))?
            .clone();
        found
            .project_template_id
            .get_or_insert(self.project_template_id);
        found.artifact_type_id.get_or_insert(INCIDENT_ARTIFACT_TYPE);
        Some(found)
    }
}

/// Project-level reads: the project itself and its people.
impl SpiraClient {
    pub async fn get_project(&self, project: u32) -> Result<Project, SpiraError> {
        let what = format!("project PR:{project}");
        self.get(&format!("projects/{project}"), &[], &what).await
    }

    /// The user the api key belongs to.
    pub async fn current_user(&self) -> Result<User, SpiraError> {
        self.get("users", &[], &format!("user '{}'", self.login()))
            .await
    }

    /// Active members of the project.
    pub async fn project_users(&self, project: u32) -> Result<Vec<User>, SpiraError> {
        let what = format!("users of project PR:{project}");
        self.get(&format!("projects/{project}/users"), &[], &what)
            .await
    }
}

impl SpiraClient {
    pub async fn statuses(&self, template: u32) -> Result<Vec<IncidentStatus>, SpiraError> {
        self.template_get(template, "incidents/statuses", "incident statuses")
            .await
    }

    pub async fn types(&self, template: u32) -> Result<Vec<IncidentType>, SpiraError> {
        self.template_get(template, "incidents/types", "incident types")
            .await
    }

    pub async fn priorities(&self, template: u32) -> Result<Vec<Priority>, SpiraError> {
        self.template_get(template, "incidents/priorities", "incident priorities")
            .await
    }

    pub async fn severities(&self, template: u32) -> Result<Vec<Severity>, SpiraError> {
        self.template_get(template, "incidents/severities", "incident severities")
            .await
    }

    /// Definitions of the incident custom properties of the template.
    pub async fn custom_properties(
        &self,
        template: u32,
    ) -> Result<Vec<CustomPropertyDefinition>, SpiraError> {
        self.template_get(
            template,
            "custom-properties/Incident",
            "incident custom properties",
        )
        .await
    }

    /// Reads the project's template id and then all its lookups.
    pub async fn load_lookups(&self, project: u32) -> Result<Lookups, SpiraError> {
        let template = self.get_project(project).await?.project_template_id;
        let (statuses, types, priorities, severities, custom_properties) = tokio::try_join!(
            self.statuses(template),
            self.types(template),
            self.priorities(template),
            self.severities(template),
            self.custom_properties(template),
        )?;
        Ok(Lookups {
            project_template_id: template,
            statuses,
            types,
            priorities,
            severities,
            custom_properties,
        })
    }

    async fn template_get<T: serde::de::DeserializeOwned>(
        &self,
        template: u32,
        tail: &str,
        label: &str,
    ) -> Result<T, SpiraError> {
        let what = format!("{label} of template PT:{template}");
        self.get(&format!("project-templates/{template}/{tail}"), &[], &what)
            .await
    }
}
