//! `labsync status --check`: one word and one line for a monitoring
//! system, from what `status` gathered.
//!
//! - unhealthy (exit 2): a plugin's last cycle failed (a project could not
//!   sync at all), no cycle got through within the allowed age, or the
//!   daemon's lease expired without being released (it died);
//! - degraded (exit 1): items wait in the error queue (failing, or parked
//!   until `labsync retry`);
//! - healthy (exit 0) otherwise.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Exit;
use super::status::{Liveness, PluginStatus};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    Healthy,
    Degraded,
    Unhealthy,
}

impl Level {
    pub(crate) fn exit(self) -> Exit {
        match self {
            Level::Healthy => Exit::Ok,
            Level::Degraded => Exit::ItemsFailed,
            Level::Unhealthy => Exit::Config,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Level::Healthy => "healthy",
            Level::Degraded => "degraded",
            Level::Unhealthy => "unhealthy",
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Health {
    pub level: Level,
    /// Why, worst first; what is fine when healthy.
    pub reasons: Vec<String>,
}

impl Health {
    /// "degraded: plugin 'webshop', PR:1: 2 items failing (1 parked)"
    pub(crate) fn line(&self) -> String {
        format!("{}: {}", self.level.word(), self.reasons.join("; "))
    }
}

/// How long ago `t` was, in words ("3m 20s").
pub(crate) fn age(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds().max(0) as u64;
    humantime::format_duration(Duration::from_secs(secs)).to_string()
}

pub(crate) fn assess(
    plugins: &[PluginStatus],
    daemon: Option<&Liveness>,
    now: DateTime<Utc>,
    max_age: Duration,
) -> Health {
    let mut bad: Vec<(Level, String)> = Vec::new();
    if let Some(d) = daemon.filter(|d| !d.alive) {
        bad.push((
            Level::Unhealthy,
            format!(
                "labsync run ({}) stopped renewing its lease{}: it is not running",
                d.holder,
                d.heartbeat
                    .map(|t| format!(" {} ago", age(t, now)))
                    .unwrap_or_default()
            ),
        ));
    }
    let scheduled: Vec<&PluginStatus> = plugins.iter().filter(|p| p.scheduled).collect();
    if scheduled.is_empty() {
        bad.push((
            Level::Unhealthy,
            "no enabled plugin in the database: nothing is synced".to_string(),
        ));
    }
    let max = chrono::Duration::from_std(max_age).unwrap_or(chrono::TimeDelta::MAX);
    for p in &scheduled {
        let name = &p.plugin;
        if let Some(run) = p
            .last_run
            .as_ref()
            .filter(|r| r.result.as_deref() == Some("failed"))
        {
            let causes = run.causes();
            let why = if causes.is_empty() {
                "see the log".to_string()
            } else {
                causes.join(" / ")
            };
            bad.push((
                Level::Unhealthy,
                format!("plugin '{name}': last cycle failed: {why}"),
            ));
        }
        match p.last_success {
            None => bad.push((
                Level::Unhealthy,
                format!("plugin '{name}': no cycle has got through yet"),
            )),
            Some(t) if now - t > max => bad.push((
                Level::Unhealthy,
                format!(
                    "plugin '{name}': no successful cycle for {} (max {})",
                    age(t, now),
                    humantime::format_duration(max_age)
                ),
            )),
            Some(_) => {}
        }
        for pr in p.projects.iter().filter(|pr| pr.active) {
            let e = &pr.errors;
            if e.pending == 0 {
                continue;
            }
            let parked = match e.parked {
                0 => String::new(),
                n => format!(" ({n} parked until `labsync retry`)"),
            };
            bad.push((
                Level::Degraded,
                format!(
                    "plugin '{name}', PR:{}: {} item(s) failing{parked}",
                    pr.spira_project, e.pending
                ),
            ));
        }
    }
    bad.sort_by_key(|b| std::cmp::Reverse(b.0));
    let Some(level) = bad.first().map(|b| b.0) else {
        return Health {
            level: Level::Healthy,
            reasons: vec![healthy_line(&scheduled, daemon, now)],
        };
    };
    Health {
        level,
        reasons: bad.into_iter().map(|b| b.1).collect(),
    }
}

fn healthy_line(
    plugins: &[&PluginStatus],
    daemon: Option<&Liveness>,
    now: DateTime<Utc>,
) -> String {
    let oldest = plugins.iter().filter_map(|p| p.last_success).min();
    let mut text = format!("{} plugin(s) in sync", plugins.len());
    if let Some(t) = oldest {
        text.push_str(&format!(", oldest last success {} ago", age(t, now)));
    }
    if let Some(t) = daemon.and_then(|d| d.heartbeat) {
        text.push_str(&format!(", daemon heartbeat {} ago", age(t, now)));
    }
    text
}
