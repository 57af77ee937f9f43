//! One cycle of one plugin: for each active project mapping, read both
//! sides since their watermarks (minus the overlap), sync every changed
//! item, retry the items whose turn in the error queue has come, and move
//! each watermark only past what is done.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Duration, TimeZone, Utc};
use futures_util::{Stream, StreamExt};
use tokio::sync::OnceCell;

use crate::settings::Settings;
use crate::storage::Link;
use crate::storage::Storage;
use labsync_model::inflight::InFlight;
use labsync_model::{Connectors, Side};

use super::connector::{ConnectorError, Down, Endpoints};
use super::context::ProjectCtx;
use super::down;
use super::link as pair;
use super::pass::{ITEM_ORDER, Pass};
use super::report::{CycleReport, ProjectReport};
use super::{SyncError, lock};

/// How the engine runs one cycle (what connects to the sides is the
/// connectors' business: see `connectors::CycleOptions`).
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// schedule | sync-now | demo (stored in the run log).
    pub trigger: &'static str,
    /// Compute and report what would be written; write nothing.
    pub dry_run: bool,
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

fn stopping(stop: Option<&AtomicBool>) -> bool {
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
    let run_id = if opts.dry_run {
        None
    } else {
        store.start_run(&plugin.name, opts.trigger).ok()
    };
    let report = sync_projects(plugin, sides, store, opts, run_id).await;
    if let Some(id) = run_id {
        record_run(store, id, &report);
    }
    report
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
                p.fatal.as_ref().map(|cause| match p.spira_project {
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
    let mut report = CycleReport {
        plugin: plugin.name.clone(),
        projects: Vec::new(),
        stopped: false,
    };
    let projects = match store.projects(Some(&plugin.name)) {
        Ok(p) => p.into_iter().filter(|p| p.active).collect::<Vec<_>>(),
        Err(e) => {
            report.projects.push(ProjectReport {
                fatal: Some(e.to_string()),
                ..ProjectReport::default()
            });
            return report;
        }
    };
    let sides = match sides {
        Ok(c) => c,
        Err(e) => {
            report.projects.push(ProjectReport {
                fatal: Some(e.to_string()),
                ..ProjectReport::default()
            });
            return report;
        }
    };
    for p in projects {
        if opts.stopping() {
            report.stopped = true;
            break;
        }
        // Boxed: a project's future is large, and test threads' stacks small.
        let sync = Box::pin(sync_project(
            plugin,
            sides,
            store,
            run_id,
            p.spira_project,
            &p.gitlab_project,
            opts,
        ));
        let pr = match opts.stop.as_deref() {
            None => sync.await,
            Some(stop) => tokio::select! {
                pr = sync => pr,
                grace = abandoned(stop, opts.stop_grace) => {
                    tracing::warn!(
                        plugin = %plugin.name,
                        project = p.spira_project,
                        grace = %humantime::format_duration(grace),
                        "stopping: the items in hand did not finish in time; abandoned (a create left half-done is resolved by its intent on the next start)"
                    );
                    report.stopped = true;
                    ProjectReport {
                        spira_project: p.spira_project,
                        gitlab_project: p.gitlab_project.clone(),
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

/// The queue's key for an incident Spira listed without its id.
const IDLESS: i64 = 0;

/// Where a first cycle starts when no sync_since is given.
fn beginning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1990, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Tracks how far a side's read may move its watermark.
#[derive(Default)]
struct SideProgress {
    /// The server's clock when the read began: everything changed before it was seen.
    read_start: Option<DateTime<Utc>>,
    max_seen: Option<DateTime<Utc>>,
    first_failed: Option<DateTime<Utc>>,
    complete: bool,
}

impl SideProgress {
    /// Notes the server's clock at the first answer of the listing.
    fn started(&mut self, server_now: Option<DateTime<Utc>>) {
        if self.read_start.is_none() {
            // The Date header has whole seconds: step back one to stay safe.
            self.read_start = server_now.map(|t| t - Duration::seconds(1));
        }
    }

    fn seen(&mut self, at: Option<DateTime<Utc>>) {
        self.max_seen = self.max_seen.max(at);
    }

    fn failed(&mut self, at: Option<DateTime<Utc>>) {
        if let Some(t) = at {
            self.first_failed = Some(self.first_failed.map_or(t, |f| f.min(t)));
        }
    }

    /// Ends a side's listing: read to its end (the watermark may move), or
    /// not (cut short, or the side could not be read: the project did not
    /// sync, exit 2; the other side still does).
    fn listed(
        &mut self,
        read: Result<(), String>,
        run: &Run<'_>,
        report: &mut ProjectReport,
        what: (&str, &str),
    ) {
        let (plugin, what) = what;
        match read {
            Ok(()) => self.complete = !run.cut(),
            Err(e) => {
                tracing::error!(plugin, project = report.spira_project, cause = %e, "cannot read {what}");
                report.fatal.get_or_insert(format!("reading {what}: {e}"));
            }
        }
    }

    /// The new watermark: the read's start (or the newest item seen), held
    /// back before the first item that failed.
    fn watermark(&self) -> Option<DateTime<Utc>> {
        if !self.complete {
            return None;
        }
        let mark = self.read_start.or(self.max_seen)?;
        Some(match self.first_failed {
            Some(f) => mark.min(f - Duration::milliseconds(1)),
            None => mark,
        })
    }
}

/// What became of one listed item.
struct Outcome {
    side: Side,
    item: i64,
    changed_at: Option<DateTime<Utc>>,
    result: Result<(), SyncError>,
}

#[allow(clippy::too_many_arguments)]
async fn sync_project(
    plugin: &Settings,
    sides: Endpoints<'_>,
    store: &mut dyn Storage,
    run_id: Option<i64>,
    spira_project: i64,
    gitlab_project: &str,
    opts: &RunOptions,
) -> ProjectReport {
    let (dry_run, stop) = (opts.dry_run, opts.stop.as_deref());
    let mut report = ProjectReport {
        spira_project,
        gitlab_project: gitlab_project.to_string(),
        ..ProjectReport::default()
    };
    let Endpoints { tm, tracker } = sides;
    let offset = Duration::from_std(plugin.time_offset).unwrap_or(Duration::minutes(2));
    let start_of = |mark: Option<DateTime<Utc>>| {
        mark.map(|m| m - offset)
            .or(plugin.sync_since)
            .unwrap_or_else(beginning)
    };
    let marks = (
        store.watermark(&plugin.name, spira_project, Side::TestManagement),
        store.watermark(&plugin.name, spira_project, Side::IssueTracker),
    );
    let (spira_mark, gitlab_mark) = match marks {
        (Ok(s), Ok(g)) => (s, g),
        (Err(e), _) | (_, Err(e)) => {
            report.fatal = Some(e.to_string());
            return report;
        }
    };
    // A database refuses servers it does not belong to, and a second
    // install on the same project (issue 13): nothing is read before.
    if let Err(e) = super::identity::ensure_bound(
        plugin,
        tracker,
        store,
        spira_project,
        gitlab_project,
        dry_run,
    )
    .await
    {
        match down::of_connectors(tm, tracker) {
            Some(down) => side_stopped(&mut report, down),
            None => stop_project(&mut report, e.to_string()),
        }
        return report;
    }
    let install = match store.install_id() {
        Ok(id) => id,
        Err(e) => {
            report.fatal = Some(e.to_string());
            return report;
        }
    };
    let mut pass = Pass::new(store, run_id, dry_run, opts.progress.clone());
    pass.install = install;
    // The project's setup (lookups, users, milestones...) is read only when
    // an item needs it: a quiet cycle costs one listing per side.
    let load = Loader {
        plugin,
        tm,
        tracker,
        spira_project,
        gitlab_project,
        dry_run,
        ctx: OnceCell::new(),
        failed: Mutex::new(None),
    };
    let run = Run {
        limit: plugin.concurrency.max(1),
        halt: AtomicBool::new(false),
        stop,
        in_flight: InFlight::default(),
        order: AtomicU64::new(0),
    };
    // Incidents listed this cycle; their issues are not synced again from
    // the GitLab side (unless the incident held nothing new).
    let mut done_incidents = HashSet::new();
    // Whether Spira listed an incident without its id (queued as item 0).
    let mut idless = false;

    // Spira: incidents changed since the watermark.
    let mut spira_progress = SideProgress::default();
    let spira_start = OnceLock::new();
    let listing = tm.changed_since(spira_project, start_of(spira_mark), run.in_flight.clone());
    let read = run
        .each(
            listing,
            || first_answer(&spira_start, tm.server_now()),
            |incident| {
                let id = match incident.id {
                    Some(id) => id,
                    None => {
                        idless = true;
                        IDLESS
                    }
                };
                // Listed again because this cycle's own write moved it:
                // synced already, and a change by someone else after the
                // read began is past the watermark, for the next cycle.
                if id != IDLESS && !done_incidents.insert(id) {
                    return None;
                }
                if let Some(p) = &pass.progress {
                    p.spira_items.fetch_add(1, Ordering::Relaxed);
                }
                Some((id, incident.updated_at))
            },
            |incident| {
                let (load, pass) = (&load, &pass);
                async move {
                    let ctx = load.ensure(pass).await?;
                    pair::from_incident(ctx, pass, &incident, false).await
                }
            },
            Side::TestManagement,
            |outcome| settle(&pass, &mut report, &load, &mut spira_progress, outcome),
        )
        .await;
    spira_progress.started(spira_start.get().copied().or(tm.server_now()));
    if let Some(down) = down::of_connectors(tm, tracker) {
        side_stopped(&mut report, down);
        run.halt.store(true, Ordering::SeqCst);
    } else {
        let listed = read.map_err(|e| e.to_string());
        let what = (plugin.name.as_str(), "Spira incidents");
        spira_progress.listed(listed, &run, &mut report, what);
    }
    // A whole listing without an id-less incident: none is left to retry.
    if spira_progress.complete && !idless && !dry_run {
        let cleared =
            pass.store()
                .clear_error(&plugin.name, spira_project, Side::TestManagement, IDLESS);
        if let Err(e) = cleared {
            report.failures.push(e.to_string());
        }
    }

    // GitLab: issues changed since the watermark (those just synced from the Spira side are skipped).
    let mut gitlab_progress = SideProgress::default();
    let gitlab_start = OnceLock::new();
    if !run.cut() {
        let listing = tracker.changed_since(
            gitlab_project,
            Some(start_of(gitlab_mark)),
            run.in_flight.clone(),
        );
        let read = run
            .each(
                listing,
                || first_answer(&gitlab_start, tracker.server_now()),
                |issue| {
                    // Tasks, test cases and OKRs share the issue list; only
                    // the types the plugin names are synced. `issue_type=`
                    // takes one value (lib/api/issues.rb): filtered here.
                    if !plugin.tracker_item_types.contains(&issue.kind) {
                        return None;
                    }
                    let linked = pass.store().link_by_issue(
                        &plugin.name,
                        issue.project_id as i64,
                        issue.id as i64,
                    );
                    if let Ok(Some(link)) = &linked
                        && done_incidents.contains(&link.incident_id)
                        && !pass.found_unchanged(link.incident_id)
                    {
                        return None;
                    }
                    if let Some(p) = &pass.progress {
                        p.gitlab_items.fetch_add(1, Ordering::Relaxed);
                    }
                    Some((issue.iid as i64, Some(issue.updated_at)))
                },
                |issue| {
                    let (load, pass) = (&load, &pass);
                    async move {
                        let ctx = load.ensure(pass).await?;
                        pair::from_issue(ctx, pass, &issue).await
                    }
                },
                Side::IssueTracker,
                |outcome| settle(&pass, &mut report, &load, &mut gitlab_progress, outcome),
            )
            .await;
        gitlab_progress.started(gitlab_start.get().copied().or(tracker.server_now()));
        if let Some(down) = down::of_connectors(tm, tracker) {
            side_stopped(&mut report, down);
            run.halt.store(true, Ordering::SeqCst);
        } else {
            let listed = read.map_err(|e| e.to_string());
            let what = (plugin.name.as_str(), "GitLab issues");
            gitlab_progress.listed(listed, &run, &mut report, what);
        }
    }
    if report.fatal.is_some() && run.halted() {
        return finish(report, pass, &load);
    }

    let sweep = plugin.comment_sweep.filter(|_| !dry_run);
    let sweep_due = match (sweep, tm.server_now()) {
        (Some(every), Some(now)) => pass
            .store()
            .links_due_for_comment_check(
                &plugin.name,
                spira_project,
                now - Duration::from_std(every).unwrap_or(Duration::minutes(15)),
                1,
            )
            .map(|due| !due.is_empty())
            .unwrap_or(true),
        _ => false,
    };
    let retry_waiting = pass
        .store()
        .queued_errors(&plugin.name, spira_project)
        .map(|q| q.iter().any(|e| !e.parked && e.next_try <= Utc::now()))
        .unwrap_or(true);
    if (sweep_due || retry_waiting) && !run.cut() {
        let ctx = match load.ensure(&pass).await {
            Ok(c) => c,
            Err(e) => {
                match down::of_connectors(tm, tracker) {
                    Some(down) => side_stopped(&mut report, down),
                    None => stop_project(&mut report, e.to_string()),
                }
                return finish(report, pass, &load);
            }
        };
        if let Some(every) = sweep.filter(|_| sweep_due) {
            sweep_comments(ctx, &pass, &mut report, every, &done_incidents, &run).await;
        }
        if retry_waiting && !run.cut() {
            retry_due(ctx, &pass, &mut report, stop).await;
        }
    }

    if !dry_run {
        for (side, progress) in [
            (Side::TestManagement, &spira_progress),
            (Side::IssueTracker, &gitlab_progress),
        ] {
            if let Some(mark) = progress.watermark()
                && let Err(e) =
                    pass.store()
                        .advance_watermark(&plugin.name, spira_project, side, mark)
            {
                report.failures.push(format!(
                    "saving the {} watermark: {e}",
                    Connectors::SPIRA_GITLAB.on(side).name
                ));
            }
        }
    }
    finish(report, pass, &load)
}

/// The server's clock at a listing's first answer, before any item of it
/// was synced (later answers include this cycle's own writes).
fn first_answer(start: &OnceLock<DateTime<Utc>>, server_now: Option<DateTime<Utc>>) {
    if let Some(t) = server_now {
        let _ = start.set(t);
    }
}

/// Books one item's outcome: a failure is queued, or stops the project
/// (returns true) when the setup could not be read or nothing can go on.
fn settle(
    pass: &Pass<'_>,
    report: &mut ProjectReport,
    load: &Loader<'_>,
    progress: &mut SideProgress,
    outcome: Outcome,
) -> bool {
    progress.seen(outcome.changed_at);
    let Err(e) = outcome.result else {
        return false;
    };
    // The item's failure may be the side's (its request came back after
    // the breaker opened): not the item's to queue.
    if let Some(down) = down::of_connectors(load.tm, load.tracker) {
        side_stopped(report, down);
        return true;
    }
    if let Some(why) = load.failure() {
        stop_project(report, why);
        return true;
    }
    let (plugin, project) = (load.plugin, load.spira_project);
    if fail(
        pass,
        report,
        plugin,
        project,
        outcome.side,
        outcome.item,
        &e,
    ) {
        return true;
    }
    progress.failed(outcome.changed_at);
    false
}

/// How the items of one project are worked through: at most `limit` at a
/// time, each listed item once, until the listing ends, a fatal error
/// halts the project, or a stop is asked for.
struct Run<'a> {
    limit: usize,
    halt: AtomicBool,
    stop: Option<&'a AtomicBool>,
    in_flight: InFlight,
    /// The order items were listed in, across both sides (for the plan).
    order: AtomicU64,
}

impl Run<'_> {
    fn halted(&self) -> bool {
        self.halt.load(Ordering::SeqCst)
    }

    /// No more items are taken: halted, or asked to stop.
    fn cut(&self) -> bool {
        self.halted() || stopping(self.stop)
    }

    /// Feeds the items of `listing` that `admit` lets through to `work`,
    /// `limit` at a time, and hands each outcome to `settle` as it comes.
    /// Returns the listing's error, if it failed; the caller knows from
    /// [`Run::cut`] whether the listing was read to its end.
    #[allow(clippy::too_many_arguments)]
    async fn each<T, E, Fut>(
        &self,
        listing: impl Stream<Item = Result<T, E>>,
        answered: impl Fn(),
        mut admit: impl FnMut(&T) -> Option<(i64, Option<DateTime<Utc>>)>,
        work: impl Fn(T) -> Fut,
        side: Side,
        mut settle: impl FnMut(Outcome) -> bool,
    ) -> Result<(), E>
    where
        Fut: Future<Output = Result<(), SyncError>>,
    {
        let mut failed = None;
        {
            let items = listing
                .take_while(|_| std::future::ready(!self.cut()))
                .filter_map(|next| {
                    answered();
                    let admitted = match next {
                        Ok(item) => admit(&item).map(|key| (item, key)),
                        Err(e) => {
                            failed = Some(e);
                            None
                        }
                    };
                    std::future::ready(admitted)
                })
                .map(|(item, (id, changed_at))| {
                    let entered = self.in_flight.enter();
                    let order = self.order.fetch_add(1, Ordering::Relaxed);
                    let fut = work(item);
                    ITEM_ORDER.scope(order, async move {
                        let result = fut.await;
                        drop(entered);
                        Outcome {
                            side,
                            item: id,
                            changed_at,
                            result,
                        }
                    })
                })
                .buffer_unordered(self.limit);
            futures_util::pin_mut!(items);
            while let Some(outcome) = items.next().await {
                if settle(outcome) {
                    self.halt.store(true, Ordering::SeqCst);
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// What loading a project's setup needs; loaded once, on first need, by
/// whichever item in flight asks first (the others wait for it).
struct Loader<'a> {
    plugin: &'a Settings,
    tm: &'a dyn super::connector::TestManagement,
    tracker: &'a dyn super::connector::IssueTracker,
    spira_project: i64,
    gitlab_project: &'a str,
    dry_run: bool,
    ctx: OnceCell<ProjectCtx<'a>>,
    /// Why loading failed: items asking afterwards fail at once.
    failed: Mutex<Option<String>>,
}

impl<'a> Loader<'a> {
    /// Loads once: the items that waited for a load that failed fail at
    /// once with its cause, instead of each loading again in turn.
    async fn ensure(&self, pass: &Pass<'_>) -> Result<&ProjectCtx<'a>, SyncError> {
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
                    self.spira_project,
                    self.gitlab_project,
                    self.dry_run,
                )
                .await;
                loaded.inspect_err(|e| {
                    lock(&self.failed).get_or_insert_with(|| e.to_string());
                })
            })
            .await
    }

    fn failure(&self) -> Option<String> {
        lock(&self.failed).clone()
    }
}

fn finish(mut report: ProjectReport, pass: Pass<'_>, load: &Loader<'_>) -> ProjectReport {
    let (counts, planned, warnings) = pass.into_outcome();
    report.stale_mappings = load
        .ctx
        .get()
        .map(|ctx| ctx.maps.stale().iter().map(ToString::to_string).collect());
    report.counts = counts;
    report.planned = planned;
    report.warnings = warnings;
    report
}

/// Records a failed item. Returns true when the failure stops the project
/// (credentials refused, database trouble): retrying items would not help.
fn fail(
    pass: &Pass<'_>,
    report: &mut ProjectReport,
    plugin: &Settings,
    spira_project: i64,
    side: Side,
    item: i64,
    e: &SyncError,
) -> bool {
    let what = match side {
        Side::TestManagement if item == IDLESS => "an incident without id".to_string(),
        Side::TestManagement => format!("incident IN:{item}"),
        Side::IssueTracker => format!("issue #{item}"),
    };
    if let Some(down) = down::of_error(e) {
        side_stopped(report, down);
        return true;
    }
    if e.is_fatal() {
        stop_project(report, e.to_string());
        return true;
    }
    tracing::warn!(plugin = %plugin.name, project = spira_project, item = %what, cause = %e, "item failed; it will be retried");
    pass.count(|c| c.failed += 1);
    if let Some(p) = &pass.progress {
        p.failed.fetch_add(1, Ordering::Relaxed);
    }
    report.failures.push(format!("{what}: {e}"));
    if !pass.dry_run
        && let Err(store_error) = pass.store().record_error(
            &plugin.name,
            spira_project,
            side,
            item,
            &e.to_string(),
            Utc::now(),
        )
    {
        report
            .failures
            .push(format!("{what}: could not queue the error: {store_error}"));
    }
    false
}

/// Stops the project with `why`, the first cause only, however many items
/// in flight run into the same cause afterwards. It is logged once, with
/// the cycle's line ("project not synced", daemon/status.rs).
fn stop_project(report: &mut ProjectReport, why: String) {
    report.fatal.get_or_insert(why);
}

/// Stops the project because a side is down (see [`Down`]).
fn side_stopped(report: &mut ProjectReport, down: Down) {
    if down.unreachable {
        report.unreachable = Some(down.side);
    }
    stop_project(report, down.message);
}

/// Linked incidents read per cycle by the comment sweep.
const SWEEP_BATCH: usize = 50;

/// Spira may not move an incident's LastUpdateDate when a comment is added,
/// so the comments of linked incidents not seen this cycle are read again
/// once per `every` (by Spira's clock), a batch at a time (several at once);
/// a pair with a new comment is synced in full.
///
/// Their issues' notes are read too: a note deleted and another added
/// leave `user_notes_count` equal to the paired notes, which is all the
/// issue listing shows (a note's touch of `updated_at` cannot be told from
/// any other edit, and within 60 s of the last one it does not move it at
/// all: ThrottledTouch). A note newer than any seen (`last_note_id`) is new.
async fn sweep_comments(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    report: &mut ProjectReport,
    every: std::time::Duration,
    done: &HashSet<i64>,
    run: &Run<'_>,
) {
    let Some(now) = ctx.tm.server_now() else {
        return;
    };
    let before = now - Duration::from_std(every).unwrap_or(Duration::minutes(15));
    let due = pass.store().links_due_for_comment_check(
        &ctx.plugin.name,
        i64::from(ctx.spira_project),
        before,
        SWEEP_BATCH,
    );
    let due = match due {
        Ok(d) => d,
        Err(e) => {
            report.failures.push(e.to_string());
            return;
        }
    };
    let checks =
        futures_util::stream::iter(due.into_iter().filter(|l| !done.contains(&l.incident_id)))
            .take_while(|_| std::future::ready(!run.cut()))
            .map(|link| async move {
                let id = link.incident_id;
                let result = async {
                    let comments = ctx.tm.comments(ctx.tm_project(), id).await?;
                    let fresh = comments
                        .iter()
                        .any(|c| c.id.is_some_and(|n| n > link.last_comment_id));
                    let new_note = newer_note(ctx, &link).await?;
                    if new_note {
                        pass.note_is_new(link.incident_id);
                    }
                    if fresh || new_note {
                        let incident = ctx.tm.get(ctx.tm_project(), id).await?;
                        pair::from_incident(ctx, pass, &incident, true).await
                    } else {
                        pass.store()
                            .mark_comments_checked(link.id, now)
                            .map_err(SyncError::from)
                    }
                }
                .await;
                (link.incident_id, result)
            })
            .buffer_unordered(run.limit);
    futures_util::pin_mut!(checks);
    while let Some((incident, result)) = checks.next().await {
        if let Err(e) = result {
            let project = i64::from(ctx.spira_project);
            if fail(
                pass,
                report,
                ctx.plugin,
                project,
                Side::TestManagement,
                incident,
                &e,
            ) {
                run.halt.store(true, Ordering::SeqCst);
            }
        }
    }
}

/// Whether the link's issue has a user note newer than any seen.
async fn newer_note(ctx: &ProjectCtx<'_>, link: &Link) -> Result<bool, SyncError> {
    let notes = ctx
        .tracker
        .comments(&ctx.tracker_project, link.issue_iid as u64)
        .await?;
    Ok(notes
        .iter()
        .any(|n| n.by_person && n.id as i64 > link.last_note_id))
}

/// Items whose turn in the error queue has come are synced again, whether
/// or not they changed. One at a time: the queue may hold both sides of
/// one pair.
async fn retry_due(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    report: &mut ProjectReport,
    stop: Option<&AtomicBool>,
) {
    let project = i64::from(ctx.spira_project);
    let queued = pass.store().queued_errors(&ctx.plugin.name, project);
    let queued = match queued {
        Ok(q) => q,
        Err(e) => {
            report.failures.push(e.to_string());
            return;
        }
    };
    let now = Utc::now();
    for q in queued
        .into_iter()
        .filter(|q| !q.parked && q.next_try <= now)
    {
        if stopping(stop) {
            return;
        }
        // Nothing to ask Spira for by id: the listing reads it again (the
        // watermark stays before it) and clears it once it is gone.
        if q.side == Side::TestManagement && q.item_id == IDLESS {
            continue;
        }
        let result = match q.side {
            Side::TestManagement => match ctx.tm.get(ctx.tm_project(), q.item_id).await {
                Ok(incident) => pair::from_incident(ctx, pass, &incident, true).await,
                Err(e) => Err(e.into()),
            },
            Side::IssueTracker => match ctx
                .tracker
                .get(&ctx.tracker_project, q.item_id as u64)
                .await
            {
                Ok(issue) => pair::from_issue(ctx, pass, &issue).await,
                Err(e) => Err(e.into()),
            },
        };
        if let Err(e) = result
            && fail(pass, report, ctx.plugin, project, q.side, q.item_id, &e)
        {
            return;
        }
    }
}
