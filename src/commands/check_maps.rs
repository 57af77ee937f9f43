//! `labsync check`: do a project's mapping tables resolve against what
//! Spira and GitLab hold? Pure: the servers were asked before.

use super::check::Finding;
use super::check_remote::ProjectPlan;
use crate::config::GITLAB_STATES;
use crate::gitlab::Milestone;
use crate::mapping::{MappingError, ProjectMaps, TmLookups};
use crate::spira::IncidentStatus;

/// What Spira told about one project.
pub(super) struct SpiraProject {
    pub statuses: Vec<IncidentStatus>,
    pub lookups: TmLookups,
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
    match ProjectMaps::build(
        &project.statuses,
        &project.priorities,
        &project.users,
        &project.releases,
        &spira.lookups,
    ) {
        // The engine skips a stale row. A status or priority one is a
        // mistake in the vocabulary (fixed once); a user who left or a
        // release deleted is the ordinary course of things: a warning.
        Ok(maps) => out.extend(maps.stale().iter().map(|s| {
            let text = format!("{label}: {s}");
            match s.table {
                "status" | "priority" => Finding::error(text),
                _ => Finding::warning(text),
            }
        })),
        Err(errors) => out.extend(
            errors
                .iter()
                .map(|e| Finding::error(format!("{label}: {e}"))),
        ),
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
            let key = row.tm_value.trim();
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
            let key = row.tracker_value.trim();
            let exists = milestones
                .iter()
                .any(|m| m.title.trim().eq_ignore_ascii_case(key) || m.id.to_string() == key);
            if !exists {
                out.push(Finding::warning(format!(
                    "{label}: release mapping '{}': GitLab has no milestone '{key}': it will be created",
                    row.tm_value
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::check::Level;
    use crate::mapping::Named;
    use crate::store::mappings::{MappingRow, ProjectRow, Source};

    fn row(spira: &str, gitlab: &str, primary: bool) -> MappingRow {
        MappingRow {
            plugin: "p".into(),
            tm_project: 1,
            tm_value: spira.into(),
            tracker_value: gitlab.into(),
            primary,
            source: Source::Config,
        }
    }

    fn named(id: i64, name: &str) -> Named {
        Named {
            id,
            names: vec![name.into()],
        }
    }

    fn spira() -> SpiraProject {
        let status = |id: u32, name: &str, active: bool| IncidentStatus {
            incident_status_id: id,
            name: name.into(),
            active,
            open: true,
        };
        SpiraProject {
            statuses: vec![
                status(1, "New", true),
                status(5, "Closed", true),
                status(9, "Old", false),
            ],
            lookups: TmLookups {
                statuses: vec![named(1, "New"), named(5, "Closed"), named(9, "Old")],
                releases: vec![named(3, "1.0")],
                ..TmLookups::default()
            },
        }
    }

    fn milestone(id: u64, title: &str) -> Milestone {
        serde_json::from_value(serde_json::json!({
            "id": id, "iid": 1, "title": title, "state": "active",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    fn plan(statuses: Vec<MappingRow>, releases: Vec<MappingRow>) -> ProjectPlan {
        ProjectPlan {
            row: ProjectRow {
                plugin: "p".into(),
                tm_project: 1,
                tracker_project: "g/p".into(),
                active: true,
                source: Source::Config,
            },
            statuses,
            priorities: vec![],
            users: vec![],
            releases,
        }
    }

    fn texts(findings: &[Finding], level: Level) -> Vec<&str> {
        findings
            .iter()
            .filter(|f| f.level == level)
            .map(|f| f.text.as_str())
            .collect()
    }

    #[test]
    fn statuses_by_id_or_name_and_inactive_ones_need_no_row() {
        let p = plan(
            vec![row("new", "opened", true), row("5", "closed", true)],
            vec![],
        );
        let found = mapping_findings("x", &p, &spira(), Some(&[]));
        assert_eq!(texts(&found, Level::Ok).len(), 1, "{found:?}");
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn no_status_rows_means_no_primary_for_either_state() {
        let found = mapping_findings("x", &plan(vec![], vec![]), &spira(), None);
        let errors = texts(&found, Level::Error);
        assert_eq!(errors.len(), 2, "{found:?}");
        assert!(errors[0].contains("'opened' has no primary"), "{errors:?}");
        assert_eq!(texts(&found, Level::Warning).len(), 2, "{found:?}");
    }

    #[test]
    fn missing_milestones_and_unknown_releases_are_warnings() {
        let statuses = vec![row("New", "opened", true), row("Closed", "closed", true)];
        let releases = vec![row("1.0", "Release 1.0", false), row("2.0", "42", false)];
        let found = mapping_findings("x", &plan(statuses.clone(), releases), &spira(), Some(&[]));
        assert!(texts(&found, Level::Error).is_empty(), "{found:?}");
        let warnings = texts(&found, Level::Warning);
        assert_eq!(warnings.len(), 3, "{found:?}");
        assert_eq!(
            warnings[0],
            "x: release mapping '2.0' → '42' (source config): no Spira release has this name or id; the row is skipped"
        );
        assert!(
            warnings[1].contains("no milestone 'Release 1.0': it will be created"),
            "{warnings:?}"
        );
        // A milestone found by title (any case) or by id is fine.
        let releases = vec![row("1.0", "release 1.0", false)];
        let ms = [milestone(42, "Release 1.0")];
        let found = mapping_findings("x", &plan(statuses.clone(), releases), &spira(), Some(&ms));
        assert!(texts(&found, Level::Warning).is_empty(), "{found:?}");
        let found = mapping_findings(
            "x",
            &plan(statuses, vec![row("1.0", "42", false)]),
            &spira(),
            Some(&ms),
        );
        assert!(texts(&found, Level::Warning).is_empty(), "{found:?}");
    }
}
