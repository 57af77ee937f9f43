//! The online part of `labsync check`: Spira and GitLab are asked, per
//! plugin at the same time, whether the secrets, projects and mapping
//! tables labsync will use are good.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use futures_util::future::join_all;

use super::check::Finding;
use super::check_maps::{SpiraProject, mapping_findings};
use crate::config::Plugin;
use crate::gitlab::{GitLabClient, GitLabError, Milestone, ProjectRef};
use crate::http::HttpSettings;
use crate::mapping::SpiraLookups;
use crate::spira::SpiraClient;
use crate::store::mappings::{MappingRow, ProjectRow};

/// GitLab's Reporter role: the least that may create issues and set labels.
const REPORTER: u32 = 20;
/// Tokens expiring sooner than this are warned about.
const EXPIRY_WARNING_DAYS: i64 = 14;

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
                p.row.spira_project, p.row.gitlab_project
            ))
        })
        .collect();
    let spira_ids: Vec<i64> = active.iter().map(|p| p.row.spira_project).collect();
    let gitlab_paths: Vec<&str> = active
        .iter()
        .map(|p| p.row.gitlab_project.as_str())
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
            project.row.spira_project, project.row.gitlab_project
        );
        // Without Spira's lookups the tables cannot be resolved; the reason
        // is already among the Spira findings.
        let Some(lookups) = spira.get(&project.row.spira_project) else {
            continue;
        };
        let ms = milestones.get(project.row.gitlab_project.as_str());
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
        settings.clone(),
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
            out.push(Finding::error(format!(
                "plugin '{name}': Spira {url}: login '{}' not accepted: {e}",
                plugin.spira.login
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
            Ok::<_, crate::spira::SpiraError>((project, lookups, users, releases))
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
                let named = SpiraLookups::from_spira(&lookups, &users, &releases);
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

/// The token (active, scopes, expiry), then access and milestones per project.
async fn check_gitlab<'a>(
    plugin: &Plugin,
    projects: &[&'a str],
    settings: &HttpSettings,
) -> (Vec<Finding>, HashMap<&'a str, Vec<Milestone>>) {
    let name = &plugin.name;
    let url = plugin.gitlab.base_url.as_str().trim_end_matches('/');
    let mut out = Vec::new();
    let mut milestones = HashMap::new();
    let token = match plugin.gitlab.token() {
        Ok(t) => t,
        Err(reason) => {
            out.push(Finding::error(format!(
                "plugin '{name}': GitLab {url} not contacted: the token is not readable here: {reason}"
            )));
            return (out, milestones);
        }
    };
    let client = match GitLabClient::new(plugin.gitlab.base_url.as_str(), token, settings.clone()) {
        Ok(c) => c,
        Err(e) => {
            out.push(Finding::error(format!(
                "plugin '{name}': GitLab {url}: {e}"
            )));
            return (out, milestones);
        }
    };
    let info = match client.token_self().await {
        Ok(info) => info,
        Err(e) => {
            out.push(Finding::error(format!(
                "plugin '{name}': GitLab {url}: token not accepted: {e}"
            )));
            return (out, milestones);
        }
    };
    let user = match client.current_user().await {
        Ok(u) => format!("'{}'", u.username),
        Err(_) => format!("user {}", info.user_id),
    };
    out.extend(token_findings(
        &format!(
            "plugin '{name}': GitLab {url}: token '{}' of {user}",
            info.name
        ),
        info.active && !info.revoked,
        &info.scopes,
        info.expires_at,
        Utc::now().date_naive(),
    ));
    for &path in projects {
        let project = ProjectRef::parse(path);
        let label = format!("plugin '{name}': GitLab project {path}");
        match client.member_access_level(&project, info.user_id).await {
            Ok(Some(level)) if level >= REPORTER => out.push(Finding::ok(format!(
                "{label}: {user} has {} access ({level})",
                role(level)
            ))),
            Ok(Some(level)) => out.push(Finding::error(format!(
                "{label}: {user} has {} access ({level}): it cannot create issues; give it Reporter ({REPORTER}) or more",
                role(level)
            ))),
            Ok(None) => out.push(Finding::error(format!(
                "{label}: {user} is not a member: give it Reporter ({REPORTER}) or more"
            ))),
            Err(GitLabError::NotFound { .. }) => {
                out.push(Finding::error(format!(
                    "{label} not found (or the token's user cannot see it)"
                )));
                continue;
            }
            Err(e) => {
                out.push(Finding::error(format!("{label}: {e}")));
                continue;
            }
        }
        match client.list_milestones(&project).await {
            Ok(list) => {
                milestones.insert(path, list);
            }
            Err(e) => out.push(Finding::error(format!("{label}: milestones: {e}"))),
        }
    }
    (out, milestones)
}

/// Active, the `api` scope (labsync writes), and days left.
fn token_findings(
    label: &str,
    active: bool,
    scopes: &[String],
    expires: Option<NaiveDate>,
    today: NaiveDate,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if !active {
        out.push(Finding::error(format!("{label} is not active")));
    }
    let shown = if scopes.is_empty() {
        "none".to_string()
    } else {
        scopes.join(", ")
    };
    if scopes.iter().any(|s| s == "api") {
        out.push(Finding::ok(format!("{label} accepted, scopes: {shown}")));
    } else {
        out.push(Finding::error(format!(
            "{label} has scopes {shown} but not `api`: labsync writes issues and needs the `api` scope"
        )));
    }
    out.push(match expires {
        None => Finding::ok(format!("{label} does not expire")),
        Some(day) => {
            let left = (day - today).num_days();
            if left <= 0 {
                Finding::error(format!("{label} expired on {day}: create a new one"))
            } else if left < EXPIRY_WARNING_DAYS {
                Finding::warning(format!(
                    "{label} expires on {day}, in {left} day(s): renew it soon"
                ))
            } else {
                Finding::ok(format!("{label} expires on {day}, in {left} days"))
            }
        }
    });
    out
}

fn role(level: u32) -> &'static str {
    match level {
        0..10 => "no",
        10..15 => "Guest",
        15..20 => "Planner",
        20..30 => "Reporter",
        30..40 => "Developer",
        40..50 => "Maintainer",
        _ => "Owner",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn token_expiry_and_scopes() {
        let today = day("2026-01-10");
        let api = vec!["api".to_string()];
        let levels = |f: Vec<Finding>| f.into_iter().map(|f| f.level).collect::<Vec<_>>();
        use super::super::check::Level::*;
        assert_eq!(
            levels(token_findings("t", true, &api, None, today)),
            [Ok, Ok]
        );
        let soon = Some(day("2026-01-15"));
        assert_eq!(
            levels(token_findings("t", true, &api, soon, today)),
            [Ok, Warning]
        );
        let past = Some(day("2026-01-10"));
        assert_eq!(
            levels(token_findings("t", true, &api, past, today)),
            [Ok, Error]
        );
        let read = vec!["read_api".to_string()];
        assert_eq!(
            levels(token_findings("t", false, &read, None, today)),
            [Error, Error, Ok]
        );
    }
}
