//! A plugins.toml block that connects the two simulators, with status and
//! priority mappings that match their seeds. Shared by `labsync demo`, the
//! tests and the benchmark, so that they all sync the same way.

use super::gitlab::GitLabSim;
use super::spira::SpiraSim;

/// One `[[plugins]]` block named `name`; `extra` is inserted among the
/// plugin's own keys (e.g. `conflict = "gitlab"`). The project table comes
/// last, so lines appended after it (e.g. `releases = [...]`) belong to it.
pub fn plugin_toml(name: &str, gitlab: &GitLabSim, spira: &SpiraSim, extra: &str) -> String {
    format!(
        r#"
[[plugins]]
name = "{name}"
{extra}

[plugins.spira]
base_url = "{spira_url}"
login = "{login}"
api_key = "{key}"

[plugins.gitlab]
base_url = "{gitlab_url}"
token = "{token}"

[[plugins.projects]]
spira_project = {project}
gitlab_project = "{path}"
statuses = [
  {{ spira = "New", gitlab = "opened", primary = true }},
  {{ spira = "Open", gitlab = "opened" }},
  {{ spira = "Assigned", gitlab = "opened" }},
  {{ spira = "Reopen", gitlab = "opened" }},
  {{ spira = "Resolved", gitlab = "closed" }},
  {{ spira = "Closed", gitlab = "closed", primary = true }},
  {{ spira = "Not Reproducible", gitlab = "closed" }},
  {{ spira = "Duplicate", gitlab = "closed" }},
]
priorities = [
  {{ spira = "1 - Critical", gitlab = "priority::critical" }},
  {{ spira = "2 - High", gitlab = "priority::high" }},
  {{ spira = "3 - Medium", gitlab = "priority::medium" }},
  {{ spira = "4 - Low", gitlab = "priority::low" }},
]
"#,
        spira_url = spira.url(),
        login = spira.login(),
        key = spira.api_key(),
        gitlab_url = gitlab.url(),
        token = gitlab.token(),
        project = spira.project_id(),
        path = gitlab.project_path(),
    )
}
