//! The online part of `labsync check`: Spira and GitLab are asked, per
//! plugin at the same time, whether the secrets, projects and mapping
//! tables labsync will use are good.

use std::collections::HashMap;

use futures_util::future::join_all;

use super::check::Finding;
use super::check_gitlab::check_gitlab;
use super::check_maps::{SpiraProject, mapping_findings};
use crate::config::Plugin;
use crate::http::{HttpError, HttpSettings};
use crate::spira::{SpiraClient, SpiraError};
use crate::store::mappings::{MappingRow, ProjectRow};

pub(super) struct PluginPlan {
    pub plugin: Plugin,
    pub projects: Vec<ProjectPlan>,
}

pub(super) struct ProjectPlan {
    pub row: ProjectRow,
    pub statuses: Vec<MappingRow>,
    pub priorities: Vec<MappingRow>,
    pub users: Vec<MappingRow>,
    pub releases: Vec<MappingRow>,
}

/// Checks every plugin concurrently; findings come back in plugin order.
pub(super) async fn check_all(plans: Vec<PluginPlan>, settings: HttpSettings) -> Vec<Finding> {
    let runs = plans.iter().map(|plan| check_plugin(plan, &settings));
    join_all(runs).await.into_iter().flatten().collect()
}

async fn check_plugin(plan: &PluginPlan, settings: &HttpSettings) -> Vec<Finding> {
    let name = &plan.plugin.name;
    let active: Vec<&ProjectPlan> = plan.projects.iter().filter(|p| p.row.active).collect();
    let mut out: Vec<Finding> = plan
        .projects
        .iter()
        .filter(|p| !p.row.active)
        .map(|p| {
            Finding::ok(format!(
                "plugin '{name}': project mapping PR:{} ↔ {} is inactive: not checked",
                p.row.tm_project, p.row.tracker_project
            ))
        })
        .collect();
    let spira_ids: Vec<i64> = active.iter().map(|p| p.row.tm_project).collect();
    let gitlab_paths: Vec<&str> = active
        .iter()
        .map(|p| p.row.tracker_project.as_str())
        .collect();
    let ((spira_findings, spira), (gitlab_findings, milestones)) = tokio::join!(
        check_spira(&plan.plugin, &spira_ids, settings),
        check_gitlab(&plan.plugin, &gitlab_paths, settings),
    );
    out.extend(spira_findings);
    out.extend(gitlab_findings);
    for project in active {
        let label = format!(
            "plugin '{name}': PR:{} ↔ {}",
            project.row.tm_project, project.row.tracker_project
        );
        // Without Spira's lookups the tables cannot be resolved; the reason
        // is already among the Spira findings.
        let Some(lookups) = spira.get(&project.row.tm_project) else {
            continue;
        };
        let ms = milestones.get(project.row.tracker_project.as_str());
        out.extend(mapping_findings(
            &label,
            project,
            lookups,
            ms.map(Vec::as_slice),
        ));
    }
    out
}

/// Login, then each project and its lookups.
async fn check_spira(
    plugin: &Plugin,
    projects: &[i64],
    settings: &HttpSettings,
) -> (Vec<Finding>, HashMap<i64, SpiraProject>) {
    let name = &plugin.name;
    let url = plugin.spira.base_url.as_str().trim_end_matches('/');
    let mut out = Vec::new();
    let mut found = HashMap::new();
    let key = match plugin.spira.api_key() {
        Ok(k) => k,
        Err(reason) => {
            out.push(Finding::error(format!(
                "plugin '{name}': Spira {url} not contacted: the api key is not readable here: {reason}"
            )));
            return (out, found);
        }
    };
    let client = match SpiraClient::new(
        plugin.spira.base_url.as_str(),
        plugin.spira.login.clone(),
        key,
        plugin.spira.http(settings),
    ) {
        Ok(c) => c,
        Err(e) => {
            out.push(Finding::error(format!("plugin '{name}': Spira {url}: {e}")));
            return (out, found);
        }
    };
    match client.current_user().await {
        Ok(user) => out.push(Finding::ok(format!(
            "plugin '{name}': Spira {url} reachable; login '{}' and api key accepted",
            user.user_name
        ))),
        Err(e) => {
            let what = match e {
                SpiraError::Unauthorized { .. } => {
                    format!("login '{}' not accepted", plugin.spira.login)
                }
                // It answered: too much to read is not "unreachable".
                SpiraError::Http(HttpError::BodyTooLarge { .. }) => "answer refused".to_string(),
                SpiraError::Http(_) => "not reachable".to_string(),
                _ => "cannot sign in".to_string(),
            };
            out.push(Finding::error(format!(
                "plugin '{name}': Spira {url}: {what}: {e}"
            )));
            return (out, found);
        }
    }
    for &id in projects {
        let Ok(pid) = u32::try_from(id) else {
            out.push(Finding::error(format!(
                "plugin '{name}': Spira project {id} is not a valid project id"
            )));
            continue;
        };
        let read = async {
            let project = client.get_project(pid).await?;
            let (lookups, users, releases) = tokio::try_join!(
                client.load_lookups(pid),
                client.project_users(pid),
                client.releases(pid),
            )?;
            Ok::<_, SpiraError>((project, lookups, users, releases))
        };
        match read.await {
            Ok((project, lookups, users, releases)) => {
                out.push(Finding::ok(format!(
                    "plugin '{name}': Spira project PR:{id} '{}' readable ({} statuses, {} users, {} releases)",
                    project.name,
                    lookups.statuses.len(),
                    users.len(),
                    releases.len()
                )));
                out.extend(super::check_probe::probe(&client, pid, plugin).await);
                let setup = crate::connectors::spira::setup_of(&lookups, &users, &releases);
                let named = crate::sync::context::lookups_of(&setup);
                found.insert(
                    id,
                    SpiraProject {
                        statuses: lookups.statuses,
                        lookups: named,
                    },
                );
            }
            Err(e) => out.push(Finding::error(format!(
                "plugin '{name}': Spira project PR:{id}: {e}"
            ))),
        }
    }
    (out, found)
}
