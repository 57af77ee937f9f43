//! `labsync check` against GitLab: the token (active, `api` scope, expiry),
//! the token user's access to each project, and the milestones there.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};

use super::check::Finding;
use crate::config::Plugin;
use crate::gitlab::{GitLabClient, GitLabError, Milestone, ProjectRef};
use crate::http::{HttpError, HttpSettings};

/// GitLab's Reporter role: the least that may create issues and set labels.
const REPORTER: u32 = 20;
/// Tokens expiring sooner than this are warned about.
const EXPIRY_WARNING_DAYS: i64 = 14;

/// The token (active, scopes, expiry), then access and milestones per project.
pub(super) async fn check_gitlab<'a>(
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
    let client = match GitLabClient::new(
        plugin.gitlab.base_url.as_str(),
        token,
        plugin.gitlab.http(settings),
    ) {
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
            let what = match e {
                GitLabError::Unauthorized { .. }
                | GitLabError::TokenExpired { .. }
                | GitLabError::InsufficientScope { .. } => "token not accepted",
                // It answered: too much to read is not "unreachable".
                GitLabError::Http(HttpError::BodyTooLarge { .. }) => "answer refused",
                GitLabError::Http(_) => "not reachable",
                _ => "cannot check the token",
            };
            out.push(Finding::error(format!(
                "plugin '{name}': GitLab {url}: {what}: {e}"
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
