//! `labsync status [--json] [--errors] [--check [--max-age D]]`: where each
//! plugin and project stands, whether the daemon is alive and when it runs
//! next, from the database alone (no server is contacted; nothing is
//! written).

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::health::{self, age};
use super::table::Table;
use super::{Exit, Globals, fail, load_config, open_read_only};
use crate::model::Side;
use crate::store::lease::{DAEMON, Lease};
use crate::store::report::{ErrorRow, ErrorSummary, LinkCounts, RunReport};
use crate::store::{Store, StoreError};

#[derive(Serialize)]
pub(super) struct PluginStatus {
    pub plugin: String,
    /// Enabled and in plugins.toml: its cycles run.
    pub scheduled: bool,
    pub last_run: Option<RunReport>,
    /// When its last cycle that got through (items may have failed) ended.
    pub last_success: Option<DateTime<Utc>>,
    /// When the running daemon starts its next cycle.
    pub next_run: Option<DateTime<Utc>>,
    /// The process running a cycle of it now, if any.
    pub running: Option<Liveness>,
    /// Mapping rows naming what Spira does not have: skipped, one field each.
    pub stale_mappings: Vec<String>,
    pub projects: Vec<ProjectStatus>,
}

#[derive(Serialize)]
pub(super) struct ProjectStatus {
    pub spira_project: i64,
    pub gitlab_project: String,
    pub active: bool,
    pub watermarks: Watermarks,
    pub links: LinkCounts,
    pub errors: ErrorSummary,
}

#[derive(Serialize)]
pub(super) struct Watermarks {
    spira: Option<DateTime<Utc>>,
    gitlab: Option<DateTime<Utc>>,
}

/// A lease holder's signs of life.
#[derive(Serialize)]
pub(super) struct Liveness {
    /// "pid@host:random".
    pub holder: String,
    pub pid: Option<i64>,
    /// Its last renewal (every 30 s while it runs).
    pub heartbeat: Option<DateTime<Utc>>,
    /// False once the lease expired unreleased: the holder died.
    pub alive: bool,
}

impl Liveness {
    fn of(lease: Lease, now: DateTime<Utc>) -> Liveness {
        Liveness {
            alive: !lease.expired(now),
            heartbeat: lease.renewed_at.or(lease.acquired_at),
            holder: lease.holder,
            pid: lease.pid,
        }
    }
}

#[derive(Serialize)]
struct StatusReport {
    /// The `labsync run` holding this database; `None`: none is running.
    daemon: Option<Liveness>,
    plugins: Vec<PluginStatus>,
}

/// `check`: `Some(max_age)` for `--check`.
pub fn status(globals: &Globals, json: bool, errors: bool, check: Option<Duration>) -> Exit {
    let store = match db_path(globals).and_then(|path| open_read_only(&path)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let now = Utc::now();
    if errors {
        return match store.error_queue() {
            Ok(rows) => {
                show_errors(&rows, json);
                Exit::Ok
            }
            Err(e) => {
                fail(e);
                Exit::Config
            }
        };
    }
    let report = match gather(&store, now) {
        Ok(r) => r,
        Err(e) => {
            fail(e);
            return Exit::Config;
        }
    };
    match check {
        Some(max_age) => {
            let health = health::assess(&report.plugins, report.daemon.as_ref(), now, max_age);
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "health": health.level,
                        "exit": health.level.exit() as u8,
                        "reasons": health.reasons,
                    })
                );
            } else {
                show(health.line());
            }
            health.level.exit()
        }
        None => {
            show_status(&report, now, json);
            Exit::Ok
        }
    }
}

/// Where the database is: --db, or what the config says (status does not
/// load the config's mapping rows into the database; it reports it as it is).
pub(super) fn db_path(globals: &Globals) -> Result<PathBuf, Exit> {
    Ok(match &globals.db {
        Some(db) => db.clone(),
        None => globals.db_path(Some(&load_config(globals)?)),
    })
}

fn gather(store: &Store, now: DateTime<Utc>) -> Result<StatusReport, StoreError> {
    let daemon = store.lease(DAEMON)?.map(|l| Liveness::of(l, now));
    let daemon_alive = daemon.as_ref().is_some_and(|d| d.alive);
    let mut plugins = Vec::new();
    for plugin in store.plugin_names()? {
        let mut projects = Vec::new();
        for row in store.projects(Some(&plugin))? {
            let p = row.tm_project;
            projects.push(ProjectStatus {
                watermarks: Watermarks {
                    spira: store.watermark(&plugin, p, Side::TestManagement)?,
                    gitlab: store.watermark(&plugin, p, Side::IssueTracker)?,
                },
                links: store.link_counts(&plugin, p)?,
                errors: store.error_summary(&plugin, p)?,
                spira_project: p,
                gitlab_project: row.tracker_project,
                active: row.active,
            });
        }
        plugins.push(PluginStatus {
            scheduled: store.plugin_scheduled(&plugin)?,
            last_run: store.latest_run(&plugin)?,
            last_success: store.last_success(&plugin)?,
            // A plan left by a daemon that is gone says nothing.
            next_run: if daemon_alive {
                store.next_run(&plugin)?
            } else {
                None
            },
            running: store
                .lease(&plugin)?
                .map(|l| Liveness::of(l, now))
                .filter(|l| l.alive),
            stale_mappings: store.stale_mappings(&plugin)?,
            plugin,
            projects,
        });
    }
    Ok(StatusReport { daemon, plugins })
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "never".to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// A cause may quote a server's multi-line answer; a table row is one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn show_status(report: &StatusReport, now: DateTime<Utc>, json: bool) {
    if json {
        println!("{}", serde_json::json!(report));
        return;
    }
    show(daemon_line(report.daemon.as_ref(), now));
    if report.plugins.is_empty() {
        println!("no plugin in the database yet: run `labsync check` or a cycle first");
        return;
    }
    for p in &report.plugins {
        let run = match &p.last_run {
            None => "never ran".to_string(),
            Some(r) => format!(
                "started {}, {}, result {} ({})",
                time(Some(r.started_at)),
                r.finished_at
                    .map_or("not finished".to_string(), |t| format!(
                        "finished {}",
                        time(Some(t))
                    )),
                r.result.as_deref().unwrap_or("none yet"),
                r.trigger
            ),
        };
        show(format!("plugin '{}': last cycle {run}", p.plugin));
        for cause in p.last_run.iter().flat_map(RunReport::causes) {
            show(format!("  cause: {}", one_line(&cause)));
        }
        show(format!("  {}", timing_line(p, now)));
        if let Some(r) = &p.running {
            show(format!("  cycle running now: {}", liveness(r, now)));
        }
        for stale in &p.stale_mappings {
            show(format!("  warning: {stale}"));
        }
        let mut table = Table::new(&[
            "SPIRA",
            "GITLAB",
            "ACTIVE",
            "SPIRA WATERMARK",
            "GITLAB WATERMARK",
            "LINKS",
            "ORPHANED",
            "ERRORS",
            "LAST ERROR",
        ]);
        for pr in &p.projects {
            table.row(vec![
                format!("PR:{}", pr.spira_project),
                pr.gitlab_project.clone(),
                if pr.active { "yes" } else { "no" }.to_string(),
                time(pr.watermarks.spira),
                time(pr.watermarks.gitlab),
                pr.links.total.to_string(),
                pr.links.orphaned.to_string(),
                match pr.errors.parked {
                    0 => pr.errors.pending.to_string(),
                    n => format!("{} ({n} parked)", pr.errors.pending),
                },
                pr.errors
                    .last_cause
                    .as_deref()
                    .map_or_else(|| "-".to_string(), one_line),
            ]);
        }
        if table.is_empty() {
            println!("  no project mapping");
        } else {
            print!("{}", table.render());
        }
    }
}

/// A line of the human report: what came from servers or the database
/// (causes, names, holders) is shown escaped.
fn show(line: String) {
    println!("{}", crate::escape::printable(&line));
}

/// "daemon: running, ..." / "daemon: not running" / "daemon: gone, ...".
fn daemon_line(daemon: Option<&Liveness>, now: DateTime<Utc>) -> String {
    match daemon {
        None => "daemon: not running (no `labsync run` holds this database)".to_string(),
        Some(d) if d.alive => format!("daemon: running, {}", liveness(d, now)),
        Some(d) => format!(
            "daemon: gone: {} (its lease expired unreleased: it died or hangs)",
            liveness(d, now)
        ),
    }
}

fn liveness(l: &Liveness, now: DateTime<Utc>) -> String {
    let beat = l.heartbeat.map_or("no heartbeat".to_string(), |t| {
        format!("heartbeat {} ago", age(t, now))
    });
    format!("holder {}, {beat}", l.holder)
}

/// "last success 2026-... (3m ago); next cycle 2026-... (in 2m)"
fn timing_line(p: &PluginStatus, now: DateTime<Utc>) -> String {
    let success = match p.last_success {
        None => "last success: never".to_string(),
        Some(t) => format!("last success: {} ({} ago)", time(Some(t)), age(t, now)),
    };
    let next = match (p.scheduled, p.next_run) {
        (false, _) => "next cycle: none (disabled or not in plugins.toml)".to_string(),
        (true, None) => "next cycle: when `labsync run` or `labsync sync` runs".to_string(),
        (true, Some(t)) if t <= now => format!("next cycle: due since {}", time(Some(t))),
        (true, Some(t)) => format!("next cycle: {} (in {})", time(Some(t)), age(now, t)),
    };
    format!("{success}; {next}")
}

fn show_errors(rows: &[ErrorRow], json: bool) {
    if json {
        println!("{}", serde_json::json!({ "errors": rows }));
        return;
    }
    if rows.is_empty() {
        println!("the error queue is empty");
        return;
    }
    let mut table = Table::new(&[
        "ID", "PLUGIN", "PROJECT", "SIDE", "ITEM", "ATTEMPTS", "NEXT TRY", "PARKED", "CAUSE",
    ]);
    for r in rows {
        table.row(vec![
            r.id.to_string(),
            r.plugin.clone(),
            format!("PR:{}", r.spira_project),
            r.side.clone(),
            r.item_id.to_string(),
            r.attempts.to_string(),
            time(Some(r.next_try)),
            if r.parked { "yes" } else { "no" }.to_string(),
            one_line(&r.cause),
        ]);
    }
    print!("{}", table.render());
}
