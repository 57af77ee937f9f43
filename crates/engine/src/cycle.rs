//! One cycle of one plugin, for each active project mapping: a sync
//! ([`run`]: read, plan, apply, queue, watermarks — recorded in the run
//! log) or a plan ([`plan_cycle`]: read and plan; nothing is written).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::settings::Settings;
use crate::storage::ProjectRow;
use crate::storage::Storage;

use super::connector::{ConnectorError, Endpoints};
use super::project::{self, Project};
use super::report::{CycleReport, ProjectReport};

/// How the engine runs one cycle (what connects to the sides is the
/// connectors' business: see `connectors::CycleOptions`).
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// schedule | sync-now | demo (stored in the run log).
    pub trigger: &'static str,
    /// The most the items in hand get to finish once a stop is asked for
    /// (at most [`STOP_GRACE`]; less when a request's timeout is shorter).
    pub stop_grace: std::time::Duration,
    /// Set by SIGTERM/SIGINT: the cycle stops after the items in hand, and
    /// watermarks move only past what was done.
    pub stop: Option<Arc<AtomicBool>>,
    /// Counts items as they are done, for a progress display.
    pub progress: Option<Arc<super::report::Progress>>,
}

impl RunOptions {
    fn stopping(&self) -> bool {
        stopping(self.stop.as_deref())
    }
}

pub(super) fn stopping(stop: Option<&AtomicBool>) -> bool {
    stop.is_some_and(|s| s.load(Ordering::SeqCst))
}

/// Runs one cycle of `plugin` between its two connectors (or records why
/// they could not be made). Never panics on outside data; every problem
/// ends up in the report (fatal per project, or per item).
pub async fn run(
    plugin: &Settings,
    sides: Result<Endpoints<'_>, ConnectorError>,
    store: &mut dyn Storage,
    opts: &RunOptions,
) -> CycleReport {
    // Recorded before anything can fail, so that `status` shows the cause
    // of a cycle that could not even connect.
    let run_id = store.start_run(&plugin.name, opts.trigger).ok();
    let report = sync_projects(plugin, sides, store, opts, run_id).await;
    if let Some(id) = run_id {
        record_run(store, id, &report);
    }
    report
}

/// What one cycle of `plugin` would write, per project mapping
/// (`ProjectReport::planned`), found by reading both sides as a sync
/// would; nothing is written to either side or to the database.
pub async fn plan_cycle(
    plugin: &Settings,
    sides: Result<Endpoints<'_>, ConnectorError>,
    store: &mut dyn Storage,
) -> CycleReport {
    let (mut report, found) = begin(plugin, sides, store);
    let Some((projects, sides)) = found else {
        return report;
    };
    for p in projects {
        let project = Project {
            plugin,
            sides,
            tm_project: p.tm_project,
            tracker_project: &p.tracker_project,
        };
        // Boxed: a project's future is large, and test threads' stacks small.
        report
            .projects
            .push(Box::pin(project::plan(project, store)).await);
    }
    report
}

/// The cycle's report, and the plugin's active project mappings with its
/// two sides (`None` when the cycle cannot start: the report says why).
#[allow(clippy::type_complexity)]
fn begin<'a>(
    plugin: &Settings,
    sides: Result<Endpoints<'a>, ConnectorError>,
    store: &dyn Storage,
) -> (CycleReport, Option<(Vec<ProjectRow>, Endpoints<'a>)>) {
    let mut report = CycleReport {
        plugin: plugin.name.clone(),
        projects: Vec::new(),
        stopped: false,
    };
    match mappings(plugin, sides, store) {
        Ok(found) => (report, Some(found)),
        Err(why) => {
            report.projects.push(ProjectReport {
                fatal: Some(why),
                ..ProjectReport::default()
            });
            (report, None)
        }
    }
}

/// The plugin's active project mappings and its two sides, or why the
/// cycle cannot start.
fn mappings<'a>(
    plugin: &Settings,
    sides: Result<Endpoints<'a>, ConnectorError>,
    store: &dyn Storage,
) -> Result<(Vec<ProjectRow>, Endpoints<'a>), String> {
    let projects = store
        .projects(Some(&plugin.name))
        .map_err(|e| e.to_string())?;
    let sides = sides.map_err(|e| e.to_string())?;
    Ok((projects.into_iter().filter(|p| p.active).collect(), sides))
}

/// The run log's summary: the totals, the stale mapping rows met, and the
/// cause of each project that could not sync.
fn record_run(store: &mut dyn Storage, run_id: i64, report: &CycleReport) {
    let mut summary = serde_json::to_value(report.totals()).unwrap_or_default();
    if let Some(obj) = summary.as_object_mut() {
        if let Some(stale) = report.stale_mappings() {
            obj.insert("stale_mappings".into(), stale.into());
        }
        let causes: Vec<String> = report
            .projects
            .iter()
            .filter_map(|p| {
                p.fatal.as_ref().map(|cause| match p.tm_project {
                    0 => cause.clone(),
                    n => format!("PR:{n}: {cause}"),
                })
            })
            .collect();
        if !causes.is_empty() {
            obj.insert("fatal".into(), causes.into());
        }
    }
    if let Err(e) = store.finish_run(run_id, report.result(), &summary) {
        tracing::error!(plugin = %report.plugin, cause = %e, "could not record the run");
    }
}

async fn sync_projects(
    plugin: &Settings,
    sides: Result<Endpoints<'_>, ConnectorError>,
    store: &mut dyn Storage,
    opts: &RunOptions,
    run_id: Option<i64>,
) -> CycleReport {
    let (mut report, found) = begin(plugin, sides, store);
    let Some((projects, sides)) = found else {
        return report;
    };
    for p in projects {
        if opts.stopping() {
            report.stopped = true;
            break;
        }
        let project = Project {
            plugin,
            sides,
            tm_project: p.tm_project,
            tracker_project: &p.tracker_project,
        };
        // Boxed: a project's future is large, and test threads' stacks small.
        let sync = Box::pin(project::sync(project, store, run_id, opts));
        let pr = match opts.stop.as_deref() {
            None => sync.await,
            Some(stop) => tokio::select! {
                pr = sync => pr,
                grace = abandoned(stop, opts.stop_grace) => {
                    tracing::warn!(
                        plugin = %plugin.name,
                        project = p.tm_project,
                        grace = %humantime::format_duration(grace),
                        "stopping: the items in hand did not finish in time; abandoned (a create left half-done is resolved by its intent on the next start)"
                    );
                    report.stopped = true;
                    ProjectReport {
                        tm_project: p.tm_project,
                        tracker_project: p.tracker_project.clone(),
                        ..ProjectReport::default()
                    }
                }
            },
        };
        report.projects.push(pr);
    }
    report.stopped |= opts.stopping();
    report
}

/// The most the items in hand get to finish once a stop is asked for.
pub const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Ends (returning the grace it gave) once a stop was asked for and the
/// grace has passed: the cycle is then dropped with its requests in flight.
/// That is safe: a create commits its intent before it is sent, and every
/// database change is one transaction, never held across a request.
async fn abandoned(stop: &AtomicBool, grace: std::time::Duration) -> std::time::Duration {
    // The stop flag is set by the signal task; a tenth of a second is soon
    // enough to notice it.
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(grace).await;
    grace
}
