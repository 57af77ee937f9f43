//! One project mapping in one cycle. A sync reads both sides since their
//! watermarks, carries out what each changed item needs, retries the
//! queue, sweeps comments and moves the watermarks only past what is done;
//! a plan reads the same and records what it would write, and nothing else
//! (no binding, no auto-mapped users, no queue, no sweep, no watermarks).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64};

use chrono::{DateTime, Duration, Utc};
use tokio::sync::OnceCell;

use crate::settings::Settings;
use crate::storage::Storage;
use labsync_model::inflight::InFlight;
use labsync_model::{Connectors, Side};

use super::apply::Apply;
use super::connector::{Endpoints, IssueTracker, TestManagement};
use super::context::{ProjectCtx, Users};
use super::cycle::RunOptions;
use super::down;
use super::identity;
use super::pass::Pass;
use super::preview::Preview;
use super::queue::{self, IDLESS, side_stopped, stop_project};
use super::read::{self, Listed, Run, Starts, beginning};
use super::report::ProjectReport;
use super::sweep;
use super::{SyncError, lock};

/// One project mapping of a plugin, and the two sides it is synced between.
#[derive(Clone, Copy)]
pub(super) struct Project<'a> {
    pub plugin: &'a Settings,
    pub sides: Endpoints<'a>,
    pub tm_project: i64,
    pub tracker_project: &'a str,
}

/// Syncs one project mapping.
pub(super) async fn sync(
    project: Project<'_>,
    store: &mut dyn Storage,
    run_id: Option<i64>,
    opts: &RunOptions,
) -> ProjectReport {
    let mut report = project.report();
    let Some(starts) = starts(project, store, &mut report) else {
        return report;
    };
    // A database refuses servers it does not belong to, and a second
    // install on the same project (issue 13): nothing is read before.
    let (plugin, tracker) = (project.plugin, project.sides.tracker);
    let bound = identity::ensure_bound(
        plugin,
        tracker,
        store,
        project.tm_project,
        project.tracker_project,
    );
    if let Err(e) = bound.await {
        refused(project, &mut report, e);
        return report;
    }
    let Some(mut scope) = Scope::open(project, store, Users::AutoMap, &mut report) else {
        return report;
    };
    scope.pass.run_id = run_id;
    scope.pass.progress = opts.progress.clone();
    scope.run.stop = opts.stop.as_deref();
    let listed = read::changed(&scope, &Apply, starts, &mut report).await;
    // A whole listing without an id-less incident: none is left to retry.
    if listed.test_management.complete && !listed.idless {
        let cleared = scope.pass.store().clear_error(
            &plugin.name,
            project.tm_project,
            Side::TestManagement,
            IDLESS,
        );
        if let Err(e) = cleared {
            report.failures.push(e.to_string());
        }
    }
    if report.fatal.is_some() && scope.run.halted() {
        return scope.finish(report);
    }
    if !sweep_and_retry(&scope, &listed, &mut report).await {
        return scope.finish(report);
    }
    advance_watermarks(&scope, &listed, &mut report);
    scope.finish(report)
}

/// Plans one project mapping: what a sync would write, recording nothing.
pub(super) async fn plan(project: Project<'_>, store: &mut dyn Storage) -> ProjectReport {
    let mut report = project.report();
    let Some(starts) = starts(project, store, &mut report) else {
        return report;
    };
    let (plugin, tracker) = (project.plugin, project.sides.tracker);
    let (sp, gp) = (project.tm_project, project.tracker_project);
    if let Err(e) = identity::check(plugin, tracker, store, sp, gp).await {
        refused(project, &mut report, e);
        return report;
    }
    let Some(scope) = Scope::open(project, store, Users::AsMapped, &mut report) else {
        return report;
    };
    read::changed(&scope, &Preview, starts, &mut report).await;
    if report.fatal.is_some() && scope.run.halted() {
        return scope.finish(report);
    }
    let waiting = queue::retry_waiting(&scope.pass, &plugin.name, sp);
    if waiting
        && !scope.run.cut()
        && let Some(ctx) = scope.ctx(&mut report).await
    {
        queue::retry_due(&Preview, ctx, &scope.pass, &mut report, None).await;
    }
    scope.finish(report)
}

impl Project<'_> {
    fn report(&self) -> ProjectReport {
        ProjectReport {
            tm_project: self.tm_project,
            tracker_project: self.tracker_project.to_string(),
            ..ProjectReport::default()
        }
    }
}

/// Where each side's listing starts: its watermark less the plugin's
/// overlap (or `sync_since`, or the beginning, before a first cycle).
fn starts(project: Project<'_>, store: &dyn Storage, report: &mut ProjectReport) -> Option<Starts> {
    let (plugin, sp) = (project.plugin, project.tm_project);
    let offset = Duration::from_std(plugin.time_offset).unwrap_or(Duration::minutes(2));
    let start_of = |mark: Option<DateTime<Utc>>| {
        mark.map(|m| m - offset)
            .or(plugin.sync_since)
            .unwrap_or_else(beginning)
    };
    let marks = (
        store.watermark(&plugin.name, sp, Side::TestManagement),
        store.watermark(&plugin.name, sp, Side::IssueTracker),
    );
    match marks {
        (Ok(tm), Ok(tracker)) => Some(Starts {
            test_management: start_of(tm),
            issue_tracker: start_of(tracker),
        }),
        (Err(e), _) | (_, Err(e)) => {
            report.fatal = Some(e.to_string());
            None
        }
    }
}

/// The project may not be synced from this database (see [`identity`]), or
/// a side did not answer while that was checked.
fn refused(project: Project<'_>, report: &mut ProjectReport, e: SyncError) {
    match down::of_connectors(project.sides.tm, project.sides.tracker) {
        Some(down) => side_stopped(report, down),
        None => stop_project(report, e.to_string()),
    }
}

/// After the listings: the comment sweep when due, and the items whose
/// turn in the error queue has come. False when the project's setup could
/// not be loaded for them.
async fn sweep_and_retry(scope: &Scope<'_>, listed: &Listed, report: &mut ProjectReport) -> bool {
    let load = &scope.load;
    let (plugin, project) = (load.plugin, load.tm_project);
    let sweep = match (plugin.comment_sweep, load.tm.server_now()) {
        (Some(every), Some(now)) => {
            Some(every).filter(|_| sweep::due(&scope.pass, (&plugin.name, project), every, now))
        }
        _ => None,
    };
    let retry = queue::retry_waiting(&scope.pass, &plugin.name, project);
    if !(sweep.is_some() || retry) || scope.run.cut() {
        return true;
    }
    let Some(ctx) = scope.ctx(report).await else {
        return false;
    };
    let (pass, run) = (&scope.pass, &scope.run);
    if let Some(every) = sweep {
        sweep::sweep_comments(ctx, pass, report, every, &listed.done_incidents, run).await;
    }
    if retry && !run.cut() {
        queue::retry_due(&Apply, ctx, pass, report, run.stop).await;
    }
    true
}

/// Moves each side's watermark past what was done (a side read to its
/// end, held back before the first item that failed).
fn advance_watermarks(scope: &Scope<'_>, listed: &Listed, report: &mut ProjectReport) {
    let load = &scope.load;
    for (side, progress) in [
        (Side::TestManagement, &listed.test_management),
        (Side::IssueTracker, &listed.issue_tracker),
    ] {
        if let Some(mark) = progress.watermark()
            && let Err(e) =
                scope
                    .pass
                    .store()
                    .advance_watermark(&load.plugin.name, load.tm_project, side, mark)
        {
            report.failures.push(format!(
                "saving the {} watermark: {e}",
                Connectors::SPIRA_GITLAB.on(side).name
            ));
        }
    }
}

/// What one project's pass works with: the shared state of its items, its
/// setup (loaded on first need), and how its items are worked through.
pub(super) struct Scope<'a> {
    pub pass: Pass<'a>,
    pub load: Loader<'a>,
    pub run: Run<'a>,
}

impl<'a> Scope<'a> {
    fn open(
        project: Project<'a>,
        store: &'a mut dyn Storage,
        users: Users,
        report: &mut ProjectReport,
    ) -> Option<Scope<'a>> {
        let install = match store.install_id() {
            Ok(id) => id,
            Err(e) => {
                report.fatal = Some(e.to_string());
                return None;
            }
        };
        let mut pass = Pass::new(store, None, None);
        pass.install = install;
        // The project's setup (lookups, users, milestones...) is read only
        // when an item needs it: a quiet cycle costs one listing per side.
        let load = Loader {
            plugin: project.plugin,
            tm: project.sides.tm,
            tracker: project.sides.tracker,
            tm_project: project.tm_project,
            tracker_project: project.tracker_project,
            users,
            ctx: OnceCell::new(),
            failed: Mutex::new(None),
        };
        let run = Run {
            limit: project.plugin.concurrency.max(1),
            halt: AtomicBool::new(false),
            stop: None,
            in_flight: InFlight::default(),
            order: AtomicU64::new(0),
        };
        Some(Scope { pass, load, run })
    }

    /// The project's setup; when it cannot be loaded, the project stops.
    async fn ctx(&self, report: &mut ProjectReport) -> Option<&ProjectCtx<'a>> {
        match self.load.ensure(&self.pass).await {
            Ok(ctx) => Some(ctx),
            Err(e) => {
                let load = &self.load;
                match down::of_connectors(load.tm, load.tracker) {
                    Some(down) => side_stopped(report, down),
                    None => stop_project(report, e.to_string()),
                }
                None
            }
        }
    }

    /// The project's report, with what was done, planned and warned about.
    fn finish(self, mut report: ProjectReport) -> ProjectReport {
        let (counts, planned, warnings) = self.pass.into_outcome();
        report.stale_mappings = self
            .load
            .ctx
            .get()
            .map(|ctx| ctx.maps.stale().iter().map(ToString::to_string).collect());
        report.counts = counts;
        report.planned = planned;
        report.warnings = warnings;
        report
    }
}

/// What loading a project's setup needs; loaded once, on first need, by
/// whichever item in flight asks first (the others wait for it).
pub(super) struct Loader<'a> {
    pub plugin: &'a Settings,
    pub tm: &'a dyn TestManagement,
    pub tracker: &'a dyn IssueTracker,
    pub tm_project: i64,
    pub tracker_project: &'a str,
    users: Users,
    ctx: OnceCell<ProjectCtx<'a>>,
    /// Why loading failed: items asking afterwards fail at once.
    failed: Mutex<Option<String>>,
}

impl<'a> Loader<'a> {
    /// Loads once: the items that waited for a load that failed fail at
    /// once with its cause, instead of each loading again in turn.
    pub(super) async fn ensure(&self, pass: &Pass<'_>) -> Result<&ProjectCtx<'a>, SyncError> {
        self.ctx
            .get_or_try_init(|| async {
                if let Some(why) = self.failure() {
                    return Err(SyncError::Config(why));
                }
                let loaded = ProjectCtx::load(
                    self.plugin,
                    self.tm,
                    self.tracker,
                    &pass.store,
                    self.tm_project,
                    self.tracker_project,
                    self.users,
                )
                .await;
                loaded.inspect_err(|e| {
                    lock(&self.failed).get_or_insert_with(|| e.to_string());
                })
            })
            .await
    }

    pub(super) fn failure(&self) -> Option<String> {
        lock(&self.failed).clone()
    }
}
