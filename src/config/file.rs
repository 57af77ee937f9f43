//! The shape of plugins.toml as written by an admin, before validation.
//!
//! Every struct denies unknown keys so that a typo ("tocken_env") is an error
//! naming the key, not a silently ignored setting.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// SQLite database; `--db` and LABSYNC_DB win over it.
    pub database: Option<String>,
    pub log_level: Option<String>,
    pub log_format: Option<String>,
    /// Timeout of one HTTP request, e.g. "30s".
    pub http_timeout: Option<String>,
    /// Longest a cycle may spend on each server, e.g. "1h".
    pub cycle_deadline: Option<String>,
    #[serde(default)]
    pub plugins: Vec<PluginFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginFile {
    pub name: String,
    pub caption: Option<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    pub schedule: Option<String>,
    pub time_offset: Option<String>,
    pub conflict: Option<String>,
    pub auto_map_users: Option<bool>,
    pub direction: Option<String>,
    /// Only items changed on or after this date are synced on a first cycle.
    pub sync_since: Option<String>,
    /// How often linked incidents' comments are re-read ("15m", or "off").
    pub comment_sweep: Option<String>,
    /// Items of one project synced at the same time (1 = one by one).
    pub concurrency: Option<i64>,
    /// Another labsync install (its own database) may sync the same projects.
    pub share_projects: Option<bool>,
    /// GitLab work item types synced ("issue", "incident", "task", …).
    pub gitlab_issue_types: Option<Vec<String>>,
    pub spira: SpiraFile,
    pub gitlab: GitLabFile,
    #[serde(default)]
    pub projects: Vec<ProjectFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpiraFile {
    pub base_url: String,
    pub login: String,
    pub api_key: Option<String>,
    pub api_key_file: Option<String>,
    pub api_key_env: Option<String>,
    /// Plain http to a non-loopback host must be asked for explicitly.
    #[serde(default)]
    pub allow_http: bool,
    /// PEM bundle of a private CA, trusted in addition to the system's.
    pub ca_file: Option<String>,
    /// Type of the releases labsync creates for milestones ("iteration", ...).
    pub release_type: Option<String>,
    /// Status of the releases labsync creates ("planned", ...).
    pub release_status: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitLabFile {
    pub base_url: Option<String>,
    pub token: Option<String>,
    pub token_file: Option<String>,
    pub token_env: Option<String>,
    #[serde(default)]
    pub allow_http: bool,
    pub ca_file: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    pub spira_project: i64,
    pub gitlab_project: Key,
    pub active: Option<bool>,
    #[serde(default)]
    pub statuses: Vec<MappingFile>,
    #[serde(default)]
    pub priorities: Vec<MappingFile>,
    #[serde(default)]
    pub users: Vec<MappingFile>,
    #[serde(default)]
    pub releases: Vec<MappingFile>,
}

/// One row of a mapping table: a Spira value and its GitLab counterpart.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingFile {
    pub spira: Key,
    pub gitlab: Key,
    #[serde(default)]
    pub primary: bool,
}

/// A reference written either as a number (an id) or as a name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Key {
    Id(i64),
    Name(String),
}

impl Key {
    /// The form kept in the database: digits for an id, the name otherwise.
    pub fn to_stored(&self) -> String {
        match self {
            Key::Id(n) => n.to_string(),
            Key::Name(s) => s.trim().to_string(),
        }
    }
}
