//! The comment sweep (a sync's, not a plan's): Spira may not move an
//! incident's LastUpdateDate when a comment is added, and GitLab's issue
//! listing cannot show a note deleted and another added, so the comments
//! of linked pairs not seen this cycle are read again now and then.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;

use crate::storage::Link;
use labsync_model::Side;

use super::SyncError;
use super::apply::Apply;
use super::context::ProjectCtx;
use super::link::{self, Failed};
use super::pass::Pass;
use super::queue;
use super::read::Run;
use super::report::ProjectReport;

/// Whether a batch of linked incidents is due for the sweep (by Spira's
/// clock `now`).
pub(super) fn due(
    pass: &Pass<'_>,
    ctx: (&str, i64),
    every: std::time::Duration,
    now: DateTime<Utc>,
) -> bool {
    let (plugin, project) = ctx;
    let before = now - Duration::from_std(every).unwrap_or(Duration::minutes(15));
    pass.store()
        .links_due_for_comment_check(plugin, project, before, 1)
        .map(|due| !due.is_empty())
        .unwrap_or(true)
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
pub(super) async fn sweep_comments(
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
        i64::from(ctx.tm_project),
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
    let checks = futures_util::stream::iter(due.into_iter().filter(|l| !done.contains(&l.tm_item)))
        .take_while(|_| std::future::ready(!run.cut()))
        .map(|link| async move { (link.tm_item, check(ctx, pass, &link, now).await) })
        .buffer_unordered(run.limit);
    futures_util::pin_mut!(checks);
    while let Some((incident, result)) = checks.next().await {
        if let Err(e) = result {
            let failed = Failed {
                plugin: &ctx.plugin.name,
                project: i64::from(ctx.tm_project),
                side: Side::TestManagement,
                item: incident,
                error: &e,
            };
            if queue::fail(&Apply, pass, report, &failed) {
                run.halt.store(true, Ordering::SeqCst);
            }
        }
    }
}

/// Checks one linked pair: synced in full when either side has a comment
/// newer than any seen; otherwise only the check is recorded.
async fn check(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    link: &Link,
    now: DateTime<Utc>,
) -> Result<(), SyncError> {
    let id = link.tm_item;
    let comments = ctx.tm.comments(ctx.tm_project(), id).await?;
    let fresh = comments
        .iter()
        .any(|c| c.id.is_some_and(|n| n > link.last_tm_comment));
    let new_note = newer_note(ctx, link).await?;
    if new_note {
        pass.note_is_new(id);
    }
    if fresh || new_note {
        let incident = ctx.tm.get(ctx.tm_project(), id).await?;
        link::from_incident(&Apply, ctx, pass, &incident, true).await
    } else {
        let checked = pass.store().mark_comments_checked(link.id, now);
        checked.map_err(SyncError::from)
    }
}

/// Whether the link's issue has a user note newer than any seen.
async fn newer_note(ctx: &ProjectCtx<'_>, link: &Link) -> Result<bool, SyncError> {
    let notes = ctx
        .tracker
        .comments(&ctx.tracker_project, link.tracker_iid as u64)
        .await?;
    Ok(notes
        .iter()
        .any(|n| n.by_person && n.id as i64 > link.last_tracker_comment))
}
