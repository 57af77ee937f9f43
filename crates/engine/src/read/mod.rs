//! Reading both sides of a project since their watermarks (minus the
//! overlap), a page at a time, and handing each changed item on as it
//! comes, several at a time; and how far each side's watermark may then
//! move (never past an item that failed).

use std::collections::HashSet;
use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use labsync_model::Side;

mod progress;
mod run;

use super::down;
use super::link::{self, Finish};
use super::project::Scope;
use super::queue::{self, IDLESS, side_stopped};
use super::report::ProjectReport;
pub(crate) use progress::{SideProgress, beginning};
pub(crate) use run::{Outcome, Run};

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
    /// the issue tracker's side (unless the incident held nothing new).
    pub done_incidents: HashSet<i64>,
    /// Spira listed an incident without its id (queued as item 0).
    pub idless: bool,
}

/// Lists both sides and finishes each changed item: the incidents first,
/// then the issues (those just synced from the test-management side skipped).
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

/// The test-management side: incidents changed since `start`.
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
    let listing = tm.changed_since(load.tm_project, start, run.in_flight.clone());
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
                    p.tm_items.fetch_add(1, Ordering::Relaxed);
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

/// The issue tracker: issues changed since `start`, but those of incidents synced
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
    let listing = tracker.changed_since(load.tracker_project, Some(start), run.in_flight.clone());
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
                let linked = pass.store().link_by_tracker_item(
                    &plugin.name,
                    issue.project_id as i64,
                    issue.id as i64,
                );
                if let Ok(Some(link)) = &linked
                    && done_incidents.contains(&link.tm_item)
                    && !pass.found_unchanged(link.tm_item)
                {
                    return None;
                }
                if let Some(p) = &pass.progress {
                    p.tracker_items.fetch_add(1, Ordering::Relaxed);
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
        project: load.tm_project,
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

/// The server's clock at a listing's first answer, before any item of it
/// was synced (later answers include this cycle's own writes).
fn first_answer(start: &OnceLock<DateTime<Utc>>, server_now: Option<DateTime<Utc>>) {
    if let Some(t) = server_now {
        let _ = start.set(t);
    }
}
