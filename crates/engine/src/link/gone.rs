//! A link whose counterpart is gone (deleted, moved away, its number
//! reused): orphaned, saying why; nothing is deleted on the other side.

use crate::SyncError;
use crate::connector::TrackerItem;
use crate::context::ProjectCtx;
use crate::storage::Link;

use super::Linked;

/// The link's issue, or the link orphaned when it is gone (deleted, moved,
/// or its number reused by another issue).
pub(super) async fn fetch_issue(
    ctx: &ProjectCtx<'_>,
    link: &Link,
) -> Result<Result<TrackerItem, Linked>, SyncError> {
    let found = match ctx
        .tracker
        .get(&ctx.tracker_project, link.tracker_iid as u64)
        .await
    {
        Ok(issue) => Some(issue),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e.into()),
    };
    Ok(match found {
        Some(issue) if issue.id as i64 == link.tracker_item_id && issue.moved_to.is_some() => {
            Err(orphan_moved(ctx, link, &issue).await?)
        }
        Some(issue) if issue.id as i64 == link.tracker_item_id => Ok(issue),
        // Same iid, other issue: the original was moved or deleted and the number reused.
        _ => Err(orphan(ctx, link, "the GitLab issue was deleted or moved")),
    })
}

/// The link orphaned, for `reason`.
pub(super) fn orphan(ctx: &ProjectCtx<'_>, link: &Link, reason: &str) -> Linked {
    tracing::warn!(plugin = %ctx.plugin.name, incident = link.tm_item, issue = link.tracker_iid, reason, "link orphaned; nothing is deleted on the other side");
    Linked::Orphan {
        link: link.id,
        reason: reason.to_string(),
    }
}

/// The link of an issue moved away, orphaned, saying where it went.
pub(super) async fn orphan_moved(
    ctx: &ProjectCtx<'_>,
    link: &Link,
    issue: &TrackerItem,
) -> Result<Linked, SyncError> {
    let to = crate::moved::moved_where(ctx, issue).await?;
    Ok(orphan(
        ctx,
        link,
        &format!("the GitLab issue was moved to {to}"),
    ))
}
