//! Checks the meaning of plugins.toml once its shape is right: durations,
//! schedules, URLs, secrets given exactly once, and mapping tables that the
//! engine can use without guessing. All problems are collected, not just the first.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use super::cron::Cron;
use super::duration;
use super::file::{ConfigFile, MappingFile, PluginFile, ProjectFile};
use super::from_environment;
use super::locate::Locator;
use super::shape::Override;
use super::{
    Config, ConfigError, ConflictPolicy, Direction, GitLabConnection, KeyAt, Mapping, Plugin,
    Problem, ProjectMapping, Schedule, SecretSource, SpiraConnection, dotted,
};
use crate::secret::Secret;

pub const MIN_TIME_OFFSET: Duration = duration::TIME_OFFSET.min;
pub(crate) const DEFAULT_TIME_OFFSET: Duration = Duration::from_secs(120);
pub(crate) const DEFAULT_SCHEDULE: Duration = Duration::from_secs(300);
pub(crate) const DEFAULT_COMMENT_SWEEP: Duration = Duration::from_secs(15 * 60);
/// Items of one project synced at once: enough to hide latency, few enough
/// to be a polite client of a shared server.
pub(crate) const DEFAULT_CONCURRENCY: usize = 8;
pub(crate) const MAX_CONCURRENCY: usize = 32;
pub use labsync_engine::mapping::TRACKER_STATES as GITLAB_STATES;
/// The work item types a project's issue list returns (`Issue::TYPES_FOR_LIST`
/// in GitLab's app/models/issue.rb).
pub(crate) const GITLAB_ISSUE_TYPES: [&str; 6] = [
    "issue",
    "incident",
    "test_case",
    "task",
    "objective",
    "key_result",
];
/// Defects are issues and incidents; tasks, test cases and OKRs are not.
pub(crate) const DEFAULT_GITLAB_ISSUE_TYPES: [&str; 2] = ["issue", "incident"];

/// Spira's release types (system-wide ids; reference §6). Spira needs one
/// on every new release; the default is Inflectra's GitLab plug-in's choice.
pub const RELEASE_TYPES: [(&str, u32); 4] =
    [("major", 1), ("minor", 2), ("iteration", 3), ("phase", 4)];
/// Spira's release statuses; the default (planned) is mcp-server-spira's.
pub const RELEASE_STATUSES: [(&str, u32); 6] = [
    ("planned", 1),
    ("in-progress", 2),
    ("completed", 3),
    ("closed", 4),
    ("deferred", 5),
    ("cancelled", 6),
];

struct Collector<'a> {
    file: &'a str,
    locator: &'a Locator,
    /// Top-level keys set by `LABSYNC_*` variables: their problems name the variable.
    overrides: &'a [Override],
    problems: Vec<Problem>,
}

impl Collector<'_> {
    /// Records a problem at `path` (figment-style segments) for `plugin`.
    fn push(&mut self, plugin: Option<&str>, path: &[String], message: impl Into<String>) {
        let key = match plugin {
            // Inside a plugin, the key is shown relative to it.
            Some(_) if path.len() >= 2 => dotted(&path[2..]),
            _ => dotted(path),
        };
        let from_env = from_environment(self.overrides, path);
        self.problems.push(Problem {
            line: match from_env {
                Some(_) => None,
                None => self.locator.line(path),
            },
            file: from_env.unwrap_or_else(|| self.file.to_string()),
            plugin: plugin.map(String::from),
            key,
            message: message.into(),
        });
    }
}

fn seg(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

pub(crate) fn validate(
    file: &str,
    locator: &Locator,
    overrides: &[Override],
    path: &Path,
    raw: ConfigFile,
) -> Result<Config, ConfigError> {
    let mut c = Collector {
        file,
        locator,
        overrides,
        problems: Vec::new(),
    };
    let http_timeout = match &raw.http_timeout {
        Some(t) => duration::parse(t, duration::HTTP_TIMEOUT).unwrap_or_else(|e| {
            c.push(None, &seg(&["http_timeout"]), e);
            Duration::from_secs(30)
        }),
        None => Duration::from_secs(30),
    };
    let cycle_deadline = cycle_deadline(&mut c, raw.cycle_deadline.as_deref(), http_timeout);
    if let Some(level) = &raw.log_level
        && let Err(e) = crate::logging::parse_level(level)
    {
        c.push(None, &seg(&["log_level"]), e);
    }
    if let Some(f) = &raw.log_format
        && f != "human"
        && f != "json"
    {
        c.push(
            None,
            &seg(&["log_format"]),
            format!("'{f}' is not a log format: use human or json"),
        );
    }
    let mut names = HashSet::new();
    let mut plugins = Vec::new();
    for (i, p) in raw.plugins.into_iter().enumerate() {
        let base = vec!["plugins".to_string(), i.to_string()];
        if !names.insert(p.name.clone()) {
            c.push(
                Some(&p.name),
                &with(&base, &["name"]),
                "a plugin of this name is defined twice",
            );
        }
        if let Some(plugin) = plugin(&mut c, &base, p) {
            plugins.push(plugin);
        }
    }
    if !c.problems.is_empty() {
        return Err(ConfigError::Invalid(c.problems));
    }
    Ok(Config {
        source: path.to_path_buf(),
        database: raw.database.map(Into::into),
        log_level: raw.log_level,
        log_format: raw.log_format,
        http_timeout,
        cycle_deadline,
        plugins,
    })
}

/// The default `cycle_deadline`: long enough for a large first sync, short
/// enough that a cycle stuck on a slow server ends within the hour.
pub(crate) const DEFAULT_CYCLE_DEADLINE: Duration = Duration::from_secs(3600);

/// `cycle_deadline`: within its bounds, and at least one `http_timeout`
/// (a shorter one would cut every slow request short).
fn cycle_deadline(c: &mut Collector<'_>, raw: Option<&str>, http_timeout: Duration) -> Duration {
    let Some(text) = raw else {
        return DEFAULT_CYCLE_DEADLINE.max(http_timeout);
    };
    let problem = match duration::parse(text, duration::CYCLE_DEADLINE) {
        Err(e) => e,
        Ok(d) if d < http_timeout => format!(
            "'{text}' is shorter than http_timeout ({}): a cycle could not finish one request",
            humantime::format_duration(http_timeout)
        ),
        Ok(d) => return d,
    };
    c.push(None, &seg(&["cycle_deadline"]), problem);
    DEFAULT_CYCLE_DEADLINE
}

fn with(base: &[String], more: &[&str]) -> Vec<String> {
    let mut v = base.to_vec();
    v.extend(more.iter().map(|s| s.to_string()));
    v
}

fn plugin(c: &mut Collector, base: &[String], p: PluginFile) -> Option<Plugin> {
    let name = p.name.clone();
    let n = Some(name.as_str());
    let before = c.problems.len();
    if name.is_empty()
        || !name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
    {
        c.push(
            n,
            &with(base, &["name"]),
            format!("'{name}' is not a valid name: use letters, digits, - and _"),
        );
    }
    let schedule = match p.schedule.as_deref() {
        None => Schedule::Every(DEFAULT_SCHEDULE),
        Some(s) => parse_schedule(s).unwrap_or_else(|e| {
            c.push(n, &with(base, &["schedule"]), e);
            Schedule::Every(DEFAULT_SCHEDULE)
        }),
    };
    let time_offset = match p.time_offset.as_deref() {
        None => DEFAULT_TIME_OFFSET,
        Some(s) => duration::parse(s, duration::TIME_OFFSET).unwrap_or_else(|e| {
            c.push(n, &with(base, &["time_offset"]), e);
            DEFAULT_TIME_OFFSET
        }),
    };
    let conflict = match p.conflict.as_deref() {
        None | Some("newest") => ConflictPolicy::Newest,
        Some("test-management") => ConflictPolicy::TestManagement,
        Some("gitlab") => ConflictPolicy::IssueTracker,
        Some(other) => {
            c.push(
                n,
                &with(base, &["conflict"]),
                format!(
                    "'{other}' is not a conflict policy: use newest, test-management or gitlab"
                ),
            );
            ConflictPolicy::Newest
        }
    };
    let direction = match p.direction.as_deref() {
        None | Some("both") => Direction::Both,
        Some("to-gitlab") => Direction::ToIssueTracker,
        Some("to-test-management") => Direction::ToTestManagement,
        Some(other) => {
            c.push(
                n,
                &with(base, &["direction"]),
                format!("'{other}' is not a direction: use both, to-gitlab or to-test-management"),
            );
            Direction::Both
        }
    };
    let sync_since = p.sync_since.as_deref().and_then(|s| match parse_date(s) {
        Ok(d) => Some(d),
        Err(e) => {
            c.push(n, &with(base, &["sync_since"]), e);
            None
        }
    });
    let comment_sweep = match p.comment_sweep.as_deref().map(str::trim) {
        None => Some(DEFAULT_COMMENT_SWEEP),
        Some("off") => None,
        Some(s) => match duration::parse(s, duration::COMMENT_SWEEP) {
            Ok(d) => Some(d),
            Err(e) => {
                c.push(n, &with(base, &["comment_sweep"]), format!("{e}; or off"));
                None
            }
        },
    };
    let concurrency = match p.concurrency {
        None => DEFAULT_CONCURRENCY,
        Some(k) if (1..=MAX_CONCURRENCY as i64).contains(&k) => k as usize,
        Some(k) => {
            c.push(
                n,
                &with(base, &["concurrency"]),
                format!(
                    "{k} is out of range: give 1 to {MAX_CONCURRENCY} items in flight per project"
                ),
            );
            DEFAULT_CONCURRENCY
        }
    };
    let gitlab_issue_types = issue_types(c, n, base, p.gitlab_issue_types);
    let spira_url = url_of(
        c,
        n,
        &with(base, &["spira", "base_url"]),
        &p.spira.base_url,
        p.spira.allow_http,
    );
    if p.spira.login.trim().is_empty() {
        c.push(
            n,
            &with(base, &["spira", "login"]),
            "is empty: give the Spira user name labsync signs in as",
        );
    }
    let api_key = secret_source(
        c,
        n,
        &with(base, &["spira"]),
        "api_key",
        [
            &p.spira.api_key,
            &p.spira.api_key_file,
            &p.spira.api_key_env,
        ],
    );
    let spira_ca = ca_file(
        c,
        n,
        &with(base, &["spira", "ca_file"]),
        p.spira.ca_file.as_deref(),
    );
    let mut named = |key: &str, value: Option<&str>, names: &[(&str, u32)], default: &str| {
        let value = value.unwrap_or(default).trim().to_ascii_lowercase();
        names
            .iter()
            .find(|(name, _)| *name == value)
            .map(|(_, id)| *id)
            .unwrap_or_else(|| {
                let known: Vec<&str> = names.iter().map(|(name, _)| *name).collect();
                c.push(
                    n,
                    &with(base, &["spira", key]),
                    format!(
                        "'{value}' is not a Spira {}: use {}",
                        key.replace('_', " "),
                        known.join(", ")
                    ),
                );
                0
            })
    };
    let release_type_id = named(
        "release_type",
        p.spira.release_type.as_deref(),
        &RELEASE_TYPES,
        "iteration",
    );
    let release_status_id = named(
        "release_status",
        p.spira.release_status.as_deref(),
        &RELEASE_STATUSES,
        "planned",
    );
    let gitlab_ca = ca_file(
        c,
        n,
        &with(base, &["gitlab", "ca_file"]),
        p.gitlab.ca_file.as_deref(),
    );
    let gitlab_base = p
        .gitlab
        .base_url
        .clone()
        .unwrap_or_else(|| "https://gitlab.com".to_string());
    let gitlab_url = url_of(
        c,
        n,
        &with(base, &["gitlab", "base_url"]),
        &gitlab_base,
        p.gitlab.allow_http,
    );
    let token = secret_source(
        c,
        n,
        &with(base, &["gitlab"]),
        "token",
        [&p.gitlab.token, &p.gitlab.token_file, &p.gitlab.token_env],
    );
    let projects = projects(c, n, base, &p.projects);
    if c.problems.len() > before {
        return None;
    }
    let (api_key, token) = (api_key?, token?);
    Some(Plugin {
        caption: p.caption.unwrap_or_else(|| name.clone()),
        description: p.description.unwrap_or_default(),
        enabled: p.enabled.unwrap_or(true),
        schedule,
        time_offset,
        conflict,
        auto_map_users: p.auto_map_users.unwrap_or(true),
        direction,
        sync_since,
        comment_sweep,
        concurrency,
        share_projects: p.share_projects.unwrap_or(false),
        gitlab_issue_types,
        spira: SpiraConnection {
            base_url: spira_url?,
            login: p.spira.login,
            api_key: api_key.0,
            api_key_at: api_key.1,
            ca_file: spira_ca,
            release_type_id,
            release_status_id,
        },
        gitlab: GitLabConnection {
            base_url: gitlab_url?,
            token: token.0,
            token_at: token.1,
            ca_file: gitlab_ca,
        },
        projects,
        name,
    })
}

fn issue_types(
    c: &mut Collector,
    n: Option<&str>,
    base: &[String],
    given: Option<Vec<String>>,
) -> Vec<String> {
    let Some(given) = given else {
        return DEFAULT_GITLAB_ISSUE_TYPES.map(String::from).to_vec();
    };
    let key = with(base, &["gitlab_issue_types"]);
    if given.is_empty() {
        c.push(
            n,
            &key,
            "is empty: list the work item types to sync, e.g. [\"issue\", \"incident\"]",
        );
    }
    for (i, t) in given.iter().enumerate() {
        if !GITLAB_ISSUE_TYPES.contains(&t.as_str()) {
            let at = with(&key, &[&i.to_string()]);
            c.push(
                n,
                &at,
                format!(
                    "'{t}' is not a GitLab work item type: use {}",
                    GITLAB_ISSUE_TYPES.join(", ")
                ),
            );
        }
    }
    given
}

fn url_of(
    c: &mut Collector,
    n: Option<&str>,
    path: &[String],
    text: &str,
    allow_http: bool,
) -> Option<url::Url> {
    if let Some(refused) = super::url_credentials::refusal(text) {
        c.push(n, path, refused);
        return None;
    }
    let url = match url::Url::parse(text.trim()) {
        Ok(u) => u,
        Err(e) => {
            c.push(n, path, format!("'{text}' is not a URL: {e}"));
            return None;
        }
    };
    match url.scheme() {
        "https" => Some(url),
        "http" if allow_http || is_loopback(&url) => Some(url),
        "http" => {
            c.push(n, path, format!(
                "'{text}' uses plain http, which would send credentials in clear: use https, or set allow_http = true in this block"
            ));
            None
        }
        other => {
            c.push(n, path, format!("'{text}' has scheme '{other}': use https"));
            None
        }
    }
}

/// A private CA bundle must load as the HTTP client will load it.
fn ca_file(
    c: &mut Collector,
    n: Option<&str>,
    path: &[String],
    file: Option<&str>,
) -> Option<std::path::PathBuf> {
    let file = file?;
    match super::ca::check_bundle(file) {
        Ok(_) => Some(std::path::PathBuf::from(file)),
        Err(e) => {
            c.push(n, path, e);
            None
        }
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Exactly one of `name`, `name_file`, `name_env` must be set.
fn secret_source(
    c: &mut Collector,
    n: Option<&str>,
    block: &[String],
    name: &str,
    [inline, file, env]: [&Option<String>; 3],
) -> Option<(SecretSource, KeyAt)> {
    let given: Vec<&str> = [
        (inline, name.to_string()),
        (file, format!("{name}_file")),
        (env, format!("{name}_env")),
    ]
    .iter()
    .filter(|(v, _)| v.is_some())
    .map(|(_, k)| match k.as_str() {
        k if k == name => name,
        k if k.ends_with("_file") => "file",
        _ => "env",
    })
    .collect();
    if given.len() > 1 {
        c.push(
            n,
            &with(block, &[&format!("{name}_file")]),
            format!("set only one of {name}, {name}_file and {name}_env"),
        );
        return None;
    }
    // Where the secret is named, for the problems found when it is read.
    let at = |key: String| {
        let path = with(block, &[&key]);
        KeyAt {
            key: dotted(&path[2..]),
            line: c.locator.line(&path),
        }
    };
    let (source, key) = match (inline, file, env) {
        (Some(v), _, _) if v.trim().is_empty() => {
            c.push(n, &with(block, &[name]), "is empty");
            return None;
        }
        (Some(v), _, _) => (
            SecretSource::Inline(Secret::new(v.trim())),
            name.to_string(),
        ),
        (_, Some(f), _) => (SecretSource::File(f.clone()), format!("{name}_file")),
        (_, _, Some(e)) => (SecretSource::Env(e.clone()), format!("{name}_env")),
        _ => {
            c.push(n, block, format!("missing secret: set {name}_file (a file or systemd credential name), {name}_env or {name}"));
            return None;
        }
    };
    Some((source, at(key)))
}

fn projects(
    c: &mut Collector,
    n: Option<&str>,
    base: &[String],
    list: &[ProjectFile],
) -> Vec<ProjectMapping> {
    let mut seen_spira = HashSet::new();
    let mut seen_gitlab = HashSet::new();
    let mut out = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let at = with(base, &["projects", &i.to_string()]);
        let gitlab_project = p.gitlab_project.to_stored();
        if p.spira_project <= 0 {
            c.push(
                n,
                &with(&at, &["spira_project"]),
                format!("{} is not a Spira project id", p.spira_project),
            );
        }
        if gitlab_project.is_empty() {
            c.push(
                n,
                &with(&at, &["gitlab_project"]),
                "is empty: give the numeric id or the path (group/project)",
            );
        }
        if !seen_spira.insert(p.spira_project) {
            c.push(
                n,
                &with(&at, &["spira_project"]),
                format!("Spira project {} is mapped twice", p.spira_project),
            );
        }
        if !seen_gitlab.insert(gitlab_project.clone()) {
            c.push(
                n,
                &with(&at, &["gitlab_project"]),
                format!("GitLab project {gitlab_project} is mapped twice"),
            );
        }
        let statuses = table(c, n, &at, "statuses", &p.statuses, Pairing::ManyToOne);
        for (j, m) in statuses.iter().enumerate() {
            if !GITLAB_STATES.contains(&m.gitlab.as_str()) {
                c.push(
                    n,
                    &with(&at, &["statuses", &j.to_string(), "gitlab"]),
                    format!("'{}' is not a GitLab state: use opened or closed", m.gitlab),
                );
            }
        }
        if !statuses.is_empty() {
            for state in GITLAB_STATES {
                let primaries = statuses
                    .iter()
                    .filter(|m| m.gitlab == state && m.primary)
                    .count();
                if primaries != 1 {
                    c.push(n, &with(&at, &["statuses"]), format!(
                        "GitLab state '{state}' has {primaries} primary statuses: mark exactly one with primary = true (it is the status set when GitLab changes the state)"
                    ));
                }
            }
        }
        let priorities = table(c, n, &at, "priorities", &p.priorities, Pairing::ManyToOne);
        let users = table(c, n, &at, "users", &p.users, Pairing::OneToOne);
        let releases = table(c, n, &at, "releases", &p.releases, Pairing::OneToOne);
        out.push(ProjectMapping {
            spira_project: p.spira_project,
            gitlab_project,
            active: p.active.unwrap_or(true),
            statuses,
            priorities,
            users,
            releases,
        });
    }
    out
}

#[derive(PartialEq)]
enum Pairing {
    /// Several Spira values may share one GitLab value; one of them is primary.
    ManyToOne,
    OneToOne,
}

fn table(
    c: &mut Collector,
    n: Option<&str>,
    at: &[String],
    name: &str,
    rows: &[MappingFile],
    pairing: Pairing,
) -> Vec<Mapping> {
    let mut by_spira = HashSet::new();
    let mut by_gitlab: HashMap<String, Vec<bool>> = HashMap::new();
    let mut out = Vec::new();
    for (j, row) in rows.iter().enumerate() {
        let here = with(at, &[name, &j.to_string()]);
        let spira = row.spira.to_stored();
        let gitlab = row.gitlab.to_stored();
        if spira.is_empty() || gitlab.is_empty() {
            c.push(n, &here, "both spira and gitlab must be non-empty");
            continue;
        }
        if name == "priorities" && gitlab.contains(',') {
            c.push(
                n,
                &with(&here, &["gitlab"]),
                format!("label '{gitlab}' contains a comma, which GitLab's API cannot carry"),
            );
        }
        if !by_spira.insert(spira.to_lowercase()) {
            c.push(
                n,
                &with(&here, &["spira"]),
                format!("'{spira}' is mapped twice in {name}"),
            );
        }
        by_gitlab
            .entry(gitlab.to_lowercase())
            .or_default()
            .push(row.primary);
        if pairing == Pairing::OneToOne {
            if by_gitlab[&gitlab.to_lowercase()].len() > 1 {
                c.push(
                    n,
                    &with(&here, &["gitlab"]),
                    format!("'{gitlab}' is mapped twice in {name}"),
                );
            }
            if row.primary {
                c.push(
                    n,
                    &with(&here, &["primary"]),
                    format!("{name} are one-to-one: primary has no meaning here"),
                );
            }
        }
        out.push(Mapping {
            spira,
            gitlab,
            primary: row.primary,
        });
    }
    if pairing == Pairing::ManyToOne && name == "priorities" {
        for (label, flags) in &by_gitlab {
            let primaries = flags.iter().filter(|p| **p).count();
            if flags.len() > 1 && primaries != 1 {
                c.push(n, &with(at, &[name]), format!(
                    "label '{label}' has {} priorities and {primaries} primary: mark exactly one with primary = true", flags.len()
                ));
            }
        }
        // A label with a single priority is its primary without saying so.
        for m in &mut out {
            if by_gitlab
                .get(&m.gitlab.to_lowercase())
                .is_some_and(|f| f.len() == 1)
            {
                m.primary = true;
            }
        }
    }
    out
}

/// An interval ("5m") or a cron expression as crontab(5) reads it
/// ("*/10 * * * *", "0 2 * * mon-fri", "@daily"; 6 fields start with seconds).
pub(crate) fn parse_schedule(text: &str) -> Result<Schedule, String> {
    let t = text.trim();
    if humantime::parse_duration(t).is_ok() {
        return duration::parse(t, duration::INTERVAL).map(Schedule::Every);
    }
    if t.split_whitespace().count() < 5 && !t.starts_with('@') {
        return Err(format!(
            "'{text}' is neither an interval like 5m nor a cron expression (minute hour day-of-month month day-of-week)"
        ));
    }
    Cron::parse(t, duration::INTERVAL.min).map(|c| Schedule::Cron(Box::new(c)))
}

/// "2026-01-31" (midnight UTC) or an RFC 3339 timestamp.
pub(crate) fn parse_date(text: &str) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| format!("'{text}' is not a date like 2026-01-31 or 2026-01-31T08:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        assert_eq!(
            parse_schedule("5m").unwrap(),
            Schedule::Every(Duration::from_secs(300))
        );
        assert!(matches!(
            parse_schedule("*/10 * * * *").unwrap(),
            Schedule::Cron(_)
        ));
        assert!(matches!(
            parse_schedule("0 */10 * * * *").unwrap(),
            Schedule::Cron(_)
        ));
        assert!(
            parse_schedule("5x")
                .unwrap_err()
                .contains("neither an interval")
        );
        assert!(
            parse_schedule("61 * * * *")
                .unwrap_err()
                .contains("not a valid cron")
        );
        assert!(parse_schedule("1s").unwrap_err().contains("too short"));
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2026-01-31").unwrap().to_rfc3339(),
            "2026-01-31T00:00:00+00:00"
        );
        assert_eq!(
            parse_date("2026-01-31T10:00:00+02:00")
                .unwrap()
                .to_rfc3339(),
            "2026-01-31T08:00:00+00:00"
        );
        assert!(parse_date("31/01/2026").is_err());
    }
}
