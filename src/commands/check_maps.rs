//! `labsync check`: do a project's mapping tables resolve against what
//! Spira and GitLab hold? Pure: the servers were asked before.

use super::check::Finding;
use super::check_remote::ProjectPlan;
use crate::config::GITLAB_STATES;
use crate::gitlab::Milestone;
use crate::mapping::{MappingError, ProjectMaps, SpiraLookups};
use crate::spira::IncidentStatus;

/// What Spira told about one project.
pub(super) struct SpiraProject {
    pub statuses: Vec<IncidentStatus>,
    pub lookups: SpiraLookups,
}

/// Errors for what cannot resolve, warnings for what will not sync or will
/// be created; one ok line when all is well. `milestones` is `None` when
/// GitLab could not be read (already reported).
pub(super) fn mapping_findings(
    label: &str,
    project: &ProjectPlan,
    spira: &SpiraProject,
    milestones: Option<&[Milestone]>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Err(errors) = ProjectMaps::build(
        &project.statuses,
        &project.priorities,
        &project.users,
        &project.releases,
        &spira.lookups,
    ) {
        out.extend(
            errors
                .iter()
                .map(|e| Finding::error(format!("{label}: {e}"))),
        );
    }
    // `build` only asks for primaries when some status is mapped.
    if project.statuses.is_empty() {
        for state in GITLAB_STATES {
            let e = MappingError::NoPrimary(state.to_string());
            out.push(Finding::error(format!("{label}: {e}")));
        }
    }
    for status in spira.statuses.iter().filter(|s| s.active) {
        let id = status.incident_status_id.to_string();
        let mapped = project.statuses.iter().any(|row| {
            let key = row.spira.trim();
            key == id || key.eq_ignore_ascii_case(status.name.trim())
        });
        if !mapped {
            out.push(Finding::warning(format!(
                "{label}: Spira status '{}' is active but not mapped: incidents in it cannot sync their state",
                status.name
            )));
        }
    }
    if let Some(milestones) = milestones {
        for row in &project.releases {
            let key = row.gitlab.trim();
            let exists = milestones
                .iter()
                .any(|m| m.title.trim().eq_ignore_ascii_case(key) || m.id.to_string() == key);
            if !exists {
                out.push(Finding::warning(format!(
                    "{label}: release mapping '{}': GitLab has no milestone '{key}': it will be created",
                    row.spira
                )));
            }
        }
    }
    if out.is_empty() {
        out.push(Finding::ok(format!(
            "{label}: mapping tables resolve ({} status, {} priority, {} user, {} release rows)",
            project.statuses.len(),
            project.priorities.len(),
            project.users.len(),
            project.releases.len()
        )));
    }
    out
}
