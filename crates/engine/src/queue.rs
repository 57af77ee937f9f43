//! The error queue: an item that fails is recorded with its cause and
//! retried with backoff on later cycles; it never stops the others. A
//! failure no item can get past (refused credentials, a broken database, a
//! side that stopped answering) stops the project instead, with one error.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;

use labsync_model::Side;

use super::connector::Down;
use super::context::ProjectCtx;
use super::cycle::stopping;
use super::down;
use super::link::{self, Failed, Finish};
use super::pass::Pass;
use super::report::ProjectReport;

/// The queue's key for an incident Spira listed without its id.
pub(super) const IDLESS: i64 = 0;

/// Records a failed item (queued by a sync, for a plan only reported).
/// Returns true when the failure stops the project (credentials refused,
/// database trouble): retrying items would not help.
pub(super) fn fail(
    finish: &impl Finish,
    pass: &Pass<'_>,
    report: &mut ProjectReport,
    failed: &Failed<'_>,
) -> bool {
    let (e, item) = (failed.error, failed.item);
    let what = match failed.side {
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
    tracing::warn!(plugin = %failed.plugin, project = failed.project, item = %what, cause = %e, "item failed; it will be retried");
    pass.count(|c| c.failed += 1);
    if let Some(p) = &pass.progress {
        p.failed.fetch_add(1, Ordering::Relaxed);
    }
    report.failures.push(format!("{what}: {e}"));
    if let Err(store_error) = finish.queue(pass, failed) {
        report
            .failures
            .push(format!("{what}: could not queue the error: {store_error}"));
    }
    false
}

/// Stops the project with `why`, the first cause only, however many items
/// in flight run into the same cause afterwards. It is logged once, with
/// the cycle's line ("project not synced", daemon/status.rs).
pub(super) fn stop_project(report: &mut ProjectReport, why: String) {
    report.fatal.get_or_insert(why);
}

/// Stops the project because a side is down (see [`Down`]).
pub(super) fn side_stopped(report: &mut ProjectReport, down: Down) {
    if down.unreachable {
        report.unreachable = Some(down.side);
    }
    stop_project(report, down.message);
}

/// Whether an item of the project waits in the queue for its turn.
pub(super) fn retry_waiting(pass: &Pass<'_>, plugin: &str, project: i64) -> bool {
    pass.store()
        .queued_errors(plugin, project)
        .map(|q| q.iter().any(|e| !e.parked && e.next_try <= Utc::now()))
        .unwrap_or(true)
}

/// Items whose turn in the error queue has come are synced again, whether
/// or not they changed. One at a time: the queue may hold both sides of
/// one pair.
pub(super) async fn retry_due(
    finish: &impl Finish,
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    report: &mut ProjectReport,
    stop: Option<&AtomicBool>,
) {
    let project = i64::from(ctx.tm_project);
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
        let result = retry(finish, ctx, pass, q.side, q.item_id).await;
        if let Err(e) = result {
            let failed = Failed {
                plugin: &ctx.plugin.name,
                project,
                side: q.side,
                item: q.item_id,
                error: &e,
            };
            if fail(finish, pass, report, &failed) {
                return;
            }
        }
    }
}

/// Syncs a queued item again, read afresh by id.
async fn retry(
    finish: &impl Finish,
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    side: Side,
    item: i64,
) -> Result<(), crate::SyncError> {
    match side {
        Side::TestManagement => {
            let incident = ctx.tm.get(ctx.tm_project(), item).await?;
            link::from_incident(finish, ctx, pass, &incident, true).await
        }
        Side::IssueTracker => {
            let issue = ctx.tracker.get(&ctx.tracker_project, item as u64).await?;
            link::from_issue(finish, ctx, pass, &issue).await
        }
    }
}
