//! plugins.toml merged with `LABSYNC_*` environment variables (figment), and
//! validated into a [`Config`] an admin can trust: every problem is reported
//! as one line naming the file, line, plugin and key.

mod ca;
mod cron;
mod declared;
mod diff;
pub mod duration;
mod file;
mod locate;
mod permissions;
mod secrets;
mod shape;
mod url_credentials;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use cron::Cron;
pub use diff::changes;
pub use file::{ConfigFile, Key};
pub use labsync_engine::settings::{ConflictPolicy, Direction};
pub use secrets::SecretSource;
use shape::Override;
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
    /// No request of a cycle to a server outlives this, counted from the
    /// cycle's start; retries and rate-limit waits included.
    pub cycle_deadline: Duration,
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
    /// Where plugins.toml names it.
    pub api_key_at: KeyAt,
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
    /// Where plugins.toml names it.
    pub token_at: KeyAt,
    pub ca_file: Option<PathBuf>,
}

/// A key of a plugin and its line in plugins.toml, e.g. `gitlab.token_env`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAt {
    pub key: String,
    pub line: Option<usize>,
}

impl Plugin {
    /// What the engine needs of this plugin (no schedule, no secrets).
    pub fn settings(&self) -> labsync_engine::settings::Settings {
        labsync_engine::settings::Settings {
            name: self.name.clone(),
            time_offset: self.time_offset,
            conflict: self.conflict,
            auto_map_users: self.auto_map_users,
            direction: self.direction,
            sync_since: self.sync_since,
            comment_sweep: self.comment_sweep,
            concurrency: self.concurrency,
            share_projects: self.share_projects,
            tracker_item_types: self.gitlab_issue_types.clone(),
            tm_url: self.spira.base_url.to_string(),
            tracker_url: self.gitlab.base_url.to_string(),
        }
    }
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
    /// The HTTP settings every client of a cycle (or of `check`) starts from.
    pub fn http(&self) -> crate::http::HttpSettings {
        crate::http::HttpSettings {
            timeout: self.http_timeout,
            deadline: Some(self.cycle_deadline),
            ..crate::http::HttpSettings::default()
        }
    }

    /// Reads `path`, merges `LABSYNC_*` variables over it, and validates.
    /// Secrets are not read here (see [`Config::check_secrets`]), so that
    /// commands that need no connection work without them.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = read_capped(path, MAX_CONFIG_BYTES).map_err(|reason| ConfigError::Read {
            path: path.display().to_string(),
            reason,
        })?;
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        Self::parse(path, &text, &shape::overrides(vars, CLI_ENV))
    }

    /// Parses `text` as if read from `path`, without the environment.
    pub fn from_str(path: &Path, text: &str) -> Result<Config, ConfigError> {
        Self::parse(path, text, &[])
    }

    fn parse(path: &Path, text: &str, overrides: &[Override]) -> Result<Config, ConfigError> {
        let file_name = path.display().to_string();
        let locator = locate::Locator::new(text);
        let raw = shape::read(text, overrides).map_err(|errors| {
            ConfigError::Invalid(figment_problems(&file_name, &locator, overrides, errors))
        })?;
        validate::validate(&file_name, &locator, overrides, path, raw)
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
        self.check_secrets_of(|_| true)
    }

    /// [`Config::check_secrets`] for the plugins `wanted` picks (those a
    /// command is about to sync), before anything is written.
    pub fn check_secrets_of(
        &self,
        wanted: impl Fn(&Plugin) -> bool,
    ) -> Result<Vec<Problem>, ConfigError> {
        let credentials = std::env::var_os("CREDENTIALS_DIRECTORY");
        let mut problems = Vec::new();
        let mut warnings: Vec<Problem> = self.exposure_warning().into_iter().collect();
        for p in self.plugins.iter().filter(|p| wanted(p)) {
            for (at, source) in [
                (&p.spira.api_key_at, &p.spira.api_key),
                (&p.gitlab.token_at, &p.gitlab.token),
            ] {
                let Err(message) = source.resolve() else {
                    continue;
                };
                let problem = Problem {
                    file: self.source.display().to_string(),
                    line: at.line,
                    plugin: Some(p.name.clone()),
                    key: at.key.clone(),
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
fn figment_problems(
    file: &str,
    locator: &locate::Locator,
    overrides: &[Override],
    errors: Vec<figment::Error>,
) -> Vec<Problem> {
    let mut problems: Vec<Problem> = errors
        .into_iter()
        .flat_map(|err| err.into_iter())
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
            let from_env = from_environment(overrides, &path);
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
                file: from_env.clone().unwrap_or_else(|| file.to_string()),
                line: if from_env.is_some() {
                    None
                } else {
                    locator.line(&path)
                },
                plugin,
                key,
                message,
            }
        })
        .collect();
    // In the order of the file (they come in the order of the keys' names).
    problems.sort_by_key(|p| p.line);
    problems
}

/// "LABSYNC_X (environment)" when the key at `path` came from that variable.
pub(crate) fn from_environment(overrides: &[Override], path: &[String]) -> Option<String> {
    let top = path.first()?;
    overrides
        .iter()
        .find(|o| &o.key == top)
        .map(|o| format!("{} (environment)", o.variable))
}

/// The largest plugins.toml read: far more than any real one, and a bound
/// on what `--config /dev/zero` or a wrong path can make labsync read.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The file's text, read up to `max` bytes; a directory or a device is
/// refused at once (a pipe, as from `--config <(…)`, is read).
pub(crate) fn read_capped(path: &Path, max: u64) -> Result<String, String> {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::metadata(path)
        .map_err(|e| secrets::io_reason(&e))?
        .file_type();
    if kind.is_dir() {
        return Err("is a directory, not a file".to_string());
    }
    if kind.is_char_device() || kind.is_block_device() || kind.is_socket() {
        return Err("is a device, not a file".to_string());
    }
    let file = std::fs::File::open(path).map_err(|e| secrets::io_reason(&e))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| secrets::io_reason(&e))?;
    if bytes.len() as u64 > max {
        return Err(format!("larger than {} KiB", max / 1024));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
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
