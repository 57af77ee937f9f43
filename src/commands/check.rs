//! `labsync check`: the configuration, and without `--offline` both
//! servers, the tokens and the mapping tables, one line per finding.

use std::fmt;

use super::check_remote::{self, PluginPlan, ProjectPlan};
use super::{Exit, Globals, fail, load_config, open_snapshot};
use chrono::{Local, Utc};

use crate::config::{Config, Plugin, Schedule};
use crate::daemon::schedule;
use crate::store::Store;
use crate::store::mappings::Kind;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Level {
    Ok,
    Warning,
    Error,
}

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Finding {
    pub level: Level,
    pub text: String,
}

impl Finding {
    pub(crate) fn ok(text: impl Into<String>) -> Self {
        Self::new(Level::Ok, text.into())
    }

    pub(crate) fn warning(text: impl Into<String>) -> Self {
        Self::new(Level::Warning, text.into())
    }

    pub(crate) fn error(text: impl Into<String>) -> Self {
        Self::new(Level::Error, text.into())
    }

    /// Server messages may hold line breaks; a finding is one line.
    fn new(level: Level, text: String) -> Self {
        Finding {
            level,
            text: text.split_whitespace().collect::<Vec<_>>().join(" "),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.level {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Error => "error",
        };
        write!(f, "{prefix}: {}", self.text)
    }
}

/// `labsync check [--offline]`.
pub fn check(globals: &Globals, offline: bool) -> Exit {
    let config = match load_config(globals) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut code = check_file(&config);
    if offline {
        if code == Exit::Ok {
            println!("ok: {} is valid", config.source.display());
        }
        return code;
    }
    // The mapping tables as the next cycle would read them, from a copy:
    // a check writes nothing, and needs no database yet.
    let store = match open_snapshot(globals, &config, |_| {}) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let plans = match plans(&store, &config) {
        Ok(p) => p,
        Err(e) => {
            fail(e);
            return Exit::Config;
        }
    };
    drop(store);
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let settings = config.http();
    let findings = runtime.block_on(check_remote::check_all(plans, settings));
    for finding in &findings {
        // Findings quote servers' messages.
        println!("{}", crate::escape::printable(&finding.to_string()));
    }
    if findings.iter().any(|f| f.level == Level::Error) {
        code = Exit::Config;
    }
    code
}

/// The offline part: secrets readable, one line per plugin.
fn check_file(config: &Config) -> Exit {
    let mut code = Exit::Ok;
    match config.check_secrets() {
        Ok(warnings) => {
            for w in warnings {
                println!("warning: {w}");
            }
        }
        Err(e) => {
            super::fail_config(&e);
            code = Exit::Config;
        }
    }
    for p in &config.plugins {
        println!(
            "ok: plugin '{}' ({}): {}, {} project mapping(s), schedule {}, time offset {}, conflict policy {}, direction {}, {} item(s) at once",
            p.name,
            if p.enabled { "enabled" } else { "disabled" },
            p.caption,
            p.projects.len(),
            p.schedule,
            humantime::format_duration(p.time_offset),
            p.conflict.as_str(),
            p.direction.as_str(),
            p.concurrency
        );
        println!("ok: plugin '{}': {}", p.name, next_runs(&p.schedule));
    }
    for p in &config.plugins {
        let cas = [
            ("spira.ca_file", &p.spira.ca_file),
            ("gitlab.ca_file", &p.gitlab.ca_file),
        ];
        for (key, ca) in cas {
            if let Some(ca) = ca {
                println!(
                    "warning: plugin '{}': {key}: every server whose certificate {} signs is trusted, in addition to the system's roots",
                    p.name,
                    ca.display()
                );
            }
        }
    }
    if config.plugins.is_empty() {
        println!(
            "warning: {} defines no plugin: labsync has nothing to sync",
            config.source.display()
        );
    }
    code
}

/// When the daemon would run a schedule: the next three fire times of a
/// cron expression in local time (the daemon reads it so), with the zone.
fn next_runs(schedule: &Schedule) -> String {
    let jitter = |period| humantime::format_duration(schedule::jitter_bound(period));
    match schedule {
        Schedule::Every(d) => format!(
            "first cycle when labsync run starts, then every {} (plus up to {} jitter)",
            humantime::format_duration(*d),
            jitter(*d)
        ),
        Schedule::Cron(_) => {
            let times = schedule::next_fire_times(schedule, Utc::now(), &Local, 3);
            let zone = local_zone_name();
            let shown: Vec<String> = times
                .iter()
                .map(|t| t.format("%a %Y-%m-%d %H:%M:%S %:z").to_string())
                .collect();
            let period = match times.as_slice() {
                [a, b, ..] => (*b - *a).to_std().unwrap_or_default(),
                _ => std::time::Duration::ZERO,
            };
            format!(
                "next runs ({zone} time): {} (plus up to {} jitter)",
                shown.join(", "),
                jitter(period)
            )
        }
    }
}

/// $TZ when set (chrono's Local follows it), else the system's zone.
fn local_zone_name() -> String {
    std::env::var("TZ")
        .ok()
        .map(|tz| tz.trim_start_matches(':').to_string())
        .filter(|tz| !tz.is_empty())
        .or_else(|| iana_time_zone::get_timezone().ok())
        .unwrap_or_else(|| "local".to_string())
}

/// What to check of each enabled plugin: its project mappings as the
/// database holds them, `labsync map` rows included.
fn plans(store: &Store, config: &Config) -> Result<Vec<PluginPlan>, crate::store::StoreError> {
    let enabled: Vec<&Plugin> = config.plugins.iter().filter(|p| p.enabled).collect();
    let mut out = Vec::new();
    for plugin in enabled {
        let mut projects = Vec::new();
        for row in store.projects(Some(&plugin.name))? {
            let tables = |kind| store.mappings(kind, Some(&plugin.name), Some(row.tm_project));
            projects.push(ProjectPlan {
                statuses: tables(Kind::Status)?,
                priorities: tables(Kind::Priority)?,
                users: tables(Kind::User)?,
                releases: tables(Kind::Release)?,
                row,
            });
        }
        out.push(PluginPlan {
            plugin: plugin.clone(),
            projects,
        });
    }
    Ok(out)
}
