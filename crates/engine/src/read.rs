//! Reading both sides of a project since their watermarks (minus the
//! overlap), a page at a time, and handing each changed item on as it
//! comes, several at a time; and how far each side's watermark may then
//! move (never past an item that failed).

use std::collections::HashSet;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use futures_util::{Stream, StreamExt};

use labsync_model::Side;
use labsync_model::inflight::InFlight;

use super::SyncError;
use super::cycle::stopping;
use super::down;
use super::link::{self, Finish};
use super::pass::ITEM_ORDER;
use super::project::Scope;
use super::queue::{self, IDLESS, side_stopped};
use super::report::ProjectReport;

/// Where each side's listing starts: its watermark less the overlap.
#[derive(Clone, Copy, Debug)]
pub(super) struct Starts {
    pub test_management: DateTime<Utc>,
    pub issue_tracker: DateTime<Utc>,
}

/// What the listings of both sides came to.
#[derive(Default)]
pub(super) struct Listed {
    pub test_management: SideProgress,
    pub issue_tracker: SideProgress,
    /// Incidents listed this cycle: their issues are not synced again from
    /// the GitLab side (unless the incident held nothing new).
    pub done_incidents: HashSet<i64>,
    /// Spira listed an incident without its id (queued as item 0).
    pub idless: bool,
}

/// Lists both sides and finishes each changed item: the incidents first,
/// then the issues (those just synced from the Spira side skipped).
pub(super) async fn changed(
    scope: &Scope<'_>,
    finish: &impl Finish,
    starts: Starts,
    report: &mut ProjectReport,
) -> Listed {
    let mut listed = Listed::default();
    incidents(scope, finish, starts.test_management, &mut listed, report).await;
    if !scope.run.cut() {
        issues(scope, finish, starts.issue_tracker, &mut listed, report).await;
    }
    listed
}

/// Spira: incidents changed since `start`.
async fn incidents(
    scope: &Scope<'_>,
    finish: &impl Finish,
    start: DateTime<Utc>,
    listed: &mut Listed,
    report: &mut ProjectReport,
) {
    let (load, pass, run) = (&scope.load, &scope.pass, &scope.run);
    let tm = load.tm;
    let first = OnceLock::new();
    let listing = tm.changed_since(load.spira_project, start, run.in_flight.clone());
    let Listed {
        test_management: progress,
        done_incidents,
        idless,
        ..
    } = listed;
    let read = run
        .each(
            listing,
            || first_answer(&first, tm.server_now()),
            |incident| {
                let id = match incident.id {
                    Some(id) => id,
                    None => {
                        *idless = true;
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
            |incident| async move {
                let ctx = load.ensure(pass).await?;
                link::from_incident(finish, ctx, pass, &incident, false).await
            },
            Side::TestManagement,
            |outcome| settle(scope, finish, report, progress, outcome),
        )
        .await;
    let listing = (read, first.get().copied().or(tm.server_now()));
    ended(scope, listing, progress, report, "Spira incidents");
}

/// GitLab: issues changed since `start`, but those of incidents synced
/// just now.
async fn issues(
    scope: &Scope<'_>,
    finish: &impl Finish,
    start: DateTime<Utc>,
    listed: &mut Listed,
    report: &mut ProjectReport,
) {
    let (load, pass, run) = (&scope.load, &scope.pass, &scope.run);
    let (plugin, tracker) = (load.plugin, load.tracker);
    let first = OnceLock::new();
    let listing = tracker.changed_since(load.gitlab_project, Some(start), run.in_flight.clone());
    let Listed {
        issue_tracker: progress,
        done_incidents,
        ..
    } = listed;
    let read = run
        .each(
            listing,
            || first_answer(&first, tracker.server_now()),
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
            |issue| async move {
                let ctx = load.ensure(pass).await?;
                link::from_issue(finish, ctx, pass, &issue).await
            },
            Side::IssueTracker,
            |outcome| settle(scope, finish, report, progress, outcome),
        )
        .await;
    let listing = (read, first.get().copied().or(tracker.server_now()));
    ended(scope, listing, progress, report, "GitLab issues");
}

/// Ends a side's listing (how it ended, and the server's clock when it
/// began): a side that stopped answering stops the project; otherwise the
/// listing was read to its end, or not.
fn ended<E: std::fmt::Display>(
    scope: &Scope<'_>,
    (read, began): (Result<(), E>, Option<DateTime<Utc>>),
    progress: &mut SideProgress,
    report: &mut ProjectReport,
    what: &str,
) {
    progress.started(began);
    let read = read.map_err(|e| e.to_string());
    let load = &scope.load;
    if let Some(down) = down::of_connectors(load.tm, load.tracker) {
        side_stopped(report, down);
        scope.run.halt.store(true, Ordering::SeqCst);
    } else {
        progress.listed(read, &scope.run, report, (load.plugin.name.as_str(), what));
    }
}

/// Books one item's outcome: a failure is queued, or stops the project
/// (returns true) when the setup could not be read or nothing can go on.
fn settle(
    scope: &Scope<'_>,
    finish: &impl Finish,
    report: &mut ProjectReport,
    progress: &mut SideProgress,
    outcome: Outcome,
) -> bool {
    progress.seen(outcome.changed_at);
    let Err(e) = outcome.result else {
        return false;
    };
    let load = &scope.load;
    // The item's failure may be the side's (its request came back after
    // the breaker opened): not the item's to queue.
    if let Some(down) = down::of_connectors(load.tm, load.tracker) {
        side_stopped(report, down);
        return true;
    }
    if let Some(why) = load.failure() {
        queue::stop_project(report, why);
        return true;
    }
    let failed = link::Failed {
        plugin: &load.plugin.name,
        project: load.spira_project,
        side: outcome.side,
        item: outcome.item,
        error: &e,
    };
    if queue::fail(finish, &scope.pass, report, &failed) {
        return true;
    }
    progress.failed(outcome.changed_at);
    false
}

/// Where a first cycle starts when no sync_since is given.
pub(super) fn beginning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1990, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Tracks how far a side's read may move its watermark.
#[derive(Default)]
pub(super) struct SideProgress {
    /// The server's clock when the read began: everything changed before it was seen.
    read_start: Option<DateTime<Utc>>,
    max_seen: Option<DateTime<Utc>>,
    first_failed: Option<DateTime<Utc>>,
    pub complete: bool,
}

impl SideProgress {
    /// Notes the server's clock at the first answer of the listing.
    pub(super) fn started(&mut self, server_now: Option<DateTime<Utc>>) {
        if self.read_start.is_none() {
            // The Date header has whole seconds: step back one to stay safe.
            self.read_start = server_now.map(|t| t - Duration::seconds(1));
        }
    }

    pub(super) fn seen(&mut self, at: Option<DateTime<Utc>>) {
        self.max_seen = self.max_seen.max(at);
    }

    pub(super) fn failed(&mut self, at: Option<DateTime<Utc>>) {
        if let Some(t) = at {
            self.first_failed = Some(self.first_failed.map_or(t, |f| f.min(t)));
        }
    }

    /// Ends a side's listing: read to its end (the watermark may move), or
    /// not (cut short, or the side could not be read: the project did not
    /// sync, exit 2; the other side still does).
    pub(super) fn listed(
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
    pub(super) fn watermark(&self) -> Option<DateTime<Utc>> {
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
pub(super) struct Outcome {
    pub side: Side,
    pub item: i64,
    pub changed_at: Option<DateTime<Utc>>,
    pub result: Result<(), SyncError>,
}

/// How the items of one project are worked through: at most `limit` at a
/// time, each listed item once, until the listing ends, a fatal error
/// halts the project, or a stop is asked for.
pub(super) struct Run<'a> {
    pub limit: usize,
    pub halt: AtomicBool,
    pub stop: Option<&'a AtomicBool>,
    pub in_flight: InFlight,
    /// The order items were listed in, across both sides (for the plan).
    pub order: AtomicU64,
}

impl Run<'_> {
    pub(super) fn halted(&self) -> bool {
        self.halt.load(Ordering::SeqCst)
    }

    /// No more items are taken: halted, or asked to stop.
    pub(super) fn cut(&self) -> bool {
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

/// The server's clock at a listing's first answer, before any item of it
/// was synced (later answers include this cycle's own writes).
fn first_answer(start: &OnceLock<DateTime<Utc>>, server_now: Option<DateTime<Utc>>) {
    if let Some(t) = server_now {
        let _ = start.set(t);
    }
}
