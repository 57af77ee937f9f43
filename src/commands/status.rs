//! `labsync status [--json] [--errors]`: where each plugin and project
//! stands, from the database alone (no server is contacted).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::table::Table;
use std::path::PathBuf;

use super::{Exit, Globals, fail, load_config, open_read_only};
use crate::store::report::{ErrorRow, ErrorSummary, LinkCounts, RunReport};
use crate::store::{Store, StoreError, progress::SideName};

#[derive(Serialize)]
struct PluginStatus {
    plugin: String,
    last_run: Option<RunReport>,
    /// Mapping rows naming what Spira does not have: skipped, one field each.
    stale_mappings: Vec<String>,
    projects: Vec<ProjectStatus>,
}

#[derive(Serialize)]
struct ProjectStatus {
    spira_project: i64,
    gitlab_project: String,
    active: bool,
    watermarks: Watermarks,
    links: LinkCounts,
    errors: ErrorSummary,
}

#[derive(Serialize)]
struct Watermarks {
    spira: Option<DateTime<Utc>>,
    gitlab: Option<DateTime<Utc>>,
}

pub fn status(globals: &Globals, json: bool, errors: bool) -> Exit {
    let store = match db_path(globals).and_then(|path| open_read_only(&path)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let shown = if errors {
        store.error_queue().map(|rows| show_errors(&rows, json))
    } else {
        gather(&store).map(|report| show_status(&report, json))
    };
    match shown {
        Ok(()) => Exit::Ok,
        Err(e) => {
            fail(e);
            Exit::Config
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

fn gather(store: &Store) -> Result<Vec<PluginStatus>, StoreError> {
    let mut out = Vec::new();
    for plugin in store.plugin_names()? {
        let mut projects = Vec::new();
        for row in store.projects(Some(&plugin))? {
            let p = row.spira_project;
            projects.push(ProjectStatus {
                watermarks: Watermarks {
                    spira: store.watermark(&plugin, p, SideName::Spira)?,
                    gitlab: store.watermark(&plugin, p, SideName::GitLab)?,
                },
                links: store.link_counts(&plugin, p)?,
                errors: store.error_summary(&plugin, p)?,
                spira_project: p,
                gitlab_project: row.gitlab_project,
                active: row.active,
            });
        }
        out.push(PluginStatus {
            last_run: store.latest_run(&plugin)?,
            stale_mappings: store.stale_mappings(&plugin)?,
            plugin,
            projects,
        });
    }
    Ok(out)
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

fn show_status(report: &[PluginStatus], json: bool) {
    if json {
        println!("{}", serde_json::json!({ "plugins": report }));
        return;
    }
    if report.is_empty() {
        println!("no plugin in the database yet: run `labsync check` or a cycle first");
        return;
    }
    for p in report {
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
        println!("plugin '{}': last cycle {run}", p.plugin);
        for stale in &p.stale_mappings {
            println!("  warning: {stale}");
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
