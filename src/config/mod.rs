//! plugins.toml merged with `LABSYNC_*` environment variables (figment), and
//! validated into a [`Config`] an admin can trust: every problem is reported
//! as one line naming the file, line, plugin and key.

mod cron;
mod file;
mod locate;
mod secrets;
mod url_credentials;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use figment::Figment;
use figment::providers::{Env, Format, Toml};

pub use cron::Cron;
pub use file::{ConfigFile, Key};
pub use secrets::SecretSource;
pub use validate::{GITLAB_STATES, MIN_TIME_OFFSET, RELEASE_STATUSES, RELEASE_TYPES};

use crate::secret::Secret;

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, for messages.
    pub source: PathBuf,
    pub database: Option<PathBuf>,
    pub log_level: Option<String>,
    pub log_format: Option<String>,
    pub http_timeout: Duration,
    pub plugins: Vec<Plugin>,
}

/// One connection between a Spira instance and a GitLab instance.
#[derive(Debug, Clone)]
pub struct Plugin {
    pub name: String,
    pub caption: String,
    pub description: String,
    pub enabled: bool,
    pub schedule: Schedule,
    /// Overlap subtracted from each watermark before reading.
    pub time_offset: Duration,
    pub conflict: ConflictPolicy,
    pub auto_map_users: bool,
    pub direction: Direction,
    pub sync_since: Option<DateTime<Utc>>,
    /// How often the comments of linked incidents are read again, for
    /// comments that do not move an incident's LastUpdateDate; `None` = off.
    pub comment_sweep: Option<Duration>,
    /// Items of one project in flight at once; writes to one item stay in order.
    pub concurrency: usize,
    /// Another install (its own database) may sync the same GitLab projects:
    /// the one-install check is off; claims still keep one counterpart per item.
    pub share_projects: bool,
    /// The GitLab work item types synced (`issue_type`): a project's issue
    /// list holds tasks and test cases too, which are not defects.
    pub gitlab_issue_types: Vec<String>,
    pub spira: SpiraConnection,
    pub gitlab: GitLabConnection,
    pub projects: Vec<ProjectMapping>,
}

#[derive(Debug, Clone)]
pub struct SpiraConnection {
    pub base_url: url::Url,
    pub login: String,
    pub api_key: SecretSource,
    pub ca_file: Option<PathBuf>,
    /// ReleaseTypeId of the releases labsync creates for milestones.
    pub release_type_id: u32,
    /// ReleaseStatusId of the releases labsync creates.
    pub release_status_id: u32,
}

#[derive(Debug, Clone)]
pub struct GitLabConnection {
    pub base_url: url::Url,
    pub token: SecretSource,
    pub ca_file: Option<PathBuf>,
}

impl SpiraConnection {
    pub fn api_key(&self) -> Result<Secret, String> {
        self.api_key.resolve()
    }

    /// The HTTP settings of this connection (its private CA, if any).
    pub fn http(&self, base: &crate::http::HttpSettings) -> crate::http::HttpSettings {
        crate::http::HttpSettings {
            ca_file: self.ca_file.clone(),
            ..base.clone()
        }
    }
}

impl GitLabConnection {
    pub fn token(&self) -> Result<Secret, String> {
        self.token.resolve()
    }

    /// The HTTP settings of this connection (its private CA, if any).
    pub fn http(&self, base: &crate::http::HttpSettings) -> crate::http::HttpSettings {
        crate::http::HttpSettings {
            ca_file: self.ca_file.clone(),
            ..base.clone()
        }
    }
}

/// A Spira project and the GitLab project it is synced with, with its mapping tables.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectMapping {
    pub spira_project: i64,
    /// Numeric id or full path ("group/project").
    pub gitlab_project: String,
    pub active: bool,
    pub statuses: Vec<Mapping>,
    pub priorities: Vec<Mapping>,
    pub users: Vec<Mapping>,
    pub releases: Vec<Mapping>,
}

/// One mapping row: Spira key (id as digits, or a name) ↔ GitLab key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub spira: String,
    pub gitlab: String,
    pub primary: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Every(Duration),
    Cron(Box<Cron>),
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Every(d) => write!(f, "every {}", humantime::format_duration(*d)),
            Schedule::Cron(c) => write!(f, "cron {c}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictPolicy {
    /// The side whose change is newer wins.
    Newest,
    TestManagement,
    GitLab,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Both,
    ToGitLab,
    ToTestManagement,
}

impl ConflictPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictPolicy::Newest => "newest",
            ConflictPolicy::TestManagement => "test-management",
            ConflictPolicy::GitLab => "gitlab",
        }
    }
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Both => "both",
            Direction::ToGitLab => "to-gitlab",
            Direction::ToTestManagement => "to-test-management",
        }
    }
}

/// A single problem in the configuration, shown as one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub plugin: Option<String>,
    /// Dotted key, e.g. `projects[0].statuses[2].gitlab`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if let Some(plugin) = &self.plugin {
            write!(f, "plugin '{plugin}': ")?;
        }
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the configuration: {reason}")]
    Read { path: String, reason: String },
    #[error("{}", lines(.0))]
    Invalid(Vec<Problem>),
}

impl ConfigError {
    pub fn problems(&self) -> Vec<String> {
        match self {
            ConfigError::Invalid(p) => p.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        }
    }
}

fn lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Environment variables that are command-line options, not config keys
/// (LEASE_WAIT: how long `labsync sync` waits for a cycle running elsewhere).
const CLI_ENV: &[&str] = &["CONFIG", "DB", "LOG_LEVEL", "LOG_FORMAT", "LEASE_WAIT"];

impl Config {
    /// Reads `path`, merges `LABSYNC_*` variables over it, and validates.
    /// Secrets are not read here (see [`Config::check_secrets`]), so that
    /// commands that need no connection work without them.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: secrets::io_reason(&e),
        })?;
        let env = Env::prefixed("LABSYNC_").ignore(CLI_ENV);
        Self::from_figment(path, &text, Figment::from(Toml::string(&text)).merge(env))
    }

    /// Parses `text` as if read from `path`, without the environment.
    pub fn from_str(path: &Path, text: &str) -> Result<Config, ConfigError> {
        Self::from_figment(path, text, Figment::from(Toml::string(text)))
    }

    fn from_figment(path: &Path, text: &str, figment: Figment) -> Result<Config, ConfigError> {
        let file_name = path.display().to_string();
        let locator = locate::Locator::new(text);
        let raw: ConfigFile = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(figment_problems(&file_name, &locator, e)))?;
        validate::validate(&file_name, &locator, path, raw)
    }

    /// A warning when the file holds a secret inline and others may read it.
    pub fn exposure_warning(&self) -> Option<Problem> {
        use std::os::unix::fs::PermissionsExt;
        let inline = self.plugins.iter().find(|p| {
            matches!(p.gitlab.token, SecretSource::Inline(_))
                || matches!(p.spira.api_key, SecretSource::Inline(_))
        })?;
        let mode = std::fs::metadata(&self.source).ok()?.permissions().mode();
        (mode & 0o077 != 0).then(|| Problem {
            file: self.source.display().to_string(),
            line: None,
            plugin: Some(inline.name.clone()),
            key: String::new(),
            message: format!(
                "the file holds a secret inline and is readable by others (mode {:o}): chmod 600 it, or use token_file / api_key_file",
                mode & 0o777
            ),
        })
    }

    /// Reads every secret once. Returns the warnings (secrets that only the
    /// service can read: systemd credentials outside systemd), or every
    /// secret that is missing as an error.
    pub fn check_secrets(&self) -> Result<Vec<Problem>, ConfigError> {
        let credentials = std::env::var_os("CREDENTIALS_DIRECTORY");
        let mut problems = Vec::new();
        let mut warnings: Vec<Problem> = self.exposure_warning().into_iter().collect();
        for p in &self.plugins {
            for (key, source) in [
                ("spira.api_key", &p.spira.api_key),
                ("gitlab.token", &p.gitlab.token),
            ] {
                let Err(message) = source.resolve() else {
                    continue;
                };
                let problem = Problem {
                    file: self.source.display().to_string(),
                    line: None,
                    plugin: Some(p.name.clone()),
                    key: key.to_string(),
                    message,
                };
                match source {
                    SecretSource::File(name) if credentials.is_none() && !name.contains('/') => warnings.push(Problem {
                        message: format!(
                            "systemd credential '{name}' is only readable by the service ($CREDENTIALS_DIRECTORY is not set here); not checked"
                        ),
                        ..problem
                    }),
                    _ => problems.push(problem),
                }
            }
        }
        if problems.is_empty() {
            Ok(warnings)
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    pub fn plugin(&self, name: &str) -> Option<&Plugin> {
        self.plugins.iter().find(|p| p.name == name)
    }
}

/// Turns figment's errors (it may chain several) into one line each.
fn figment_problems(file: &str, locator: &locate::Locator, err: figment::Error) -> Vec<Problem> {
    err.into_iter()
        .map(|e| {
            let mut path = e.path.clone();
            let message = match &e.kind {
                figment::error::Kind::UnknownField(field, expected) => {
                    if path.last() != Some(field) {
                        path.push(field.clone());
                    }
                    format!(
                        "unknown key '{field}' (expected one of: {})",
                        expected.join(", ")
                    )
                }
                figment::error::Kind::MissingField(field) => {
                    let field = field.to_string();
                    let msg = format!("missing key '{field}'");
                    path.push(field);
                    msg
                }
                figment::error::Kind::Message(m) => one_line(m),
                other => one_line(&other.to_string()),
            };
            let from_env = e
                .metadata
                .as_ref()
                .is_some_and(|m| m.name.contains("environment"));
            // Inside `plugins[i]`, name the plugin and show the key relative to it.
            let plugin = match path.as_slice() {
                [first, index, ..] if first == "plugins" => {
                    locator.string(&[first.clone(), index.clone(), "name".to_string()])
                }
                _ => None,
            };
            let key = if plugin.is_some() {
                dotted(&path[2..])
            } else {
                dotted(&path)
            };
            Problem {
                file: if from_env {
                    format!("{file} (LABSYNC_* environment)")
                } else {
                    file.to_string()
                },
                line: if from_env { None } else { locator.line(&path) },
                plugin,
                key,
                message,
            }
        })
        .collect()
}

/// `["plugins","0","projects","1"]` → `plugins[0].projects[1]`.
pub(crate) fn dotted(path: &[String]) -> String {
    let mut out = String::new();
    for seg in path {
        if seg.chars().all(|c| c.is_ascii_digit()) && !seg.is_empty() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

/// TOML parse errors span several lines with a caret drawing; keep the first
/// meaningful sentence and the position.
fn one_line(message: &str) -> String {
    let parts: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with('|') && !l.chars().all(|c| c == '^' || c == ' ')
        })
        .filter(|l| !l.chars().next().is_some_and(|c| c.is_ascii_digit()) || l.starts_with("TOML"))
        .collect();
    parts.join(": ")
}
