//! An item listed that holds nothing new for its pair: linking stops
//! there (the pair is not read further, nothing is written but the check).

use labsync_model::Side;

use crate::SyncError;
use crate::connector::{TmItem, TrackerItem};
use crate::context::ProjectCtx;
use crate::pair::{issue_reference, marks};
use crate::pass::Pass;
use crate::resolve::{tm_view, tracker_view};
use crate::settings::Direction;
use crate::storage::Link;

use super::Linked;

/// The incident, as listed, holds nothing new for its pair: its fields
/// resolve to the base, it names its issue, and it has no comment newer
/// than those already handled. Then the issue need not be read (a change
/// there is the GitLab listing's to find). Costs one read of comments.
pub(super) async fn incident_unchanged(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    link: &Link,
    incident: &TmItem,
    id: u32,
) -> Result<Option<Linked>, SyncError> {
    let reference = issue_reference(ctx, link.tracker_iid as u64);
    if tm_view(ctx.tm, incident, Some(&link.base)) != link.base || !marks(ctx, incident, &reference)
    {
        return Ok(None);
    }
    let comments = ctx.tm.comments(ctx.tm_project(), i64::from(id)).await?;
    let newest = comments.iter().filter_map(|c| c.id).max().unwrap_or(0);
    if newest > link.last_tm_comment {
        return Ok(None);
    }
    pass.held_nothing_new(link.tm_item);
    Ok(Some(Linked::Unchanged {
        link: link.id,
        side: Side::TestManagement,
        item: link.tm_item,
        checked_at: ctx.tm.server_now(),
    }))
}

/// The issue, as listed, holds nothing new for its pair: its fields
/// resolve to the base, it carries the footer, and its count of user
/// notes is the count already paired. No request is needed to know it.
pub(super) fn issue_unchanged(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    link: &Link,
    issue: &TrackerItem,
) -> Result<Option<Linked>, SyncError> {
    let (gv, missing_release) = tracker_view(ctx, issue, Some(&link.base), &link.tracker_kept);
    if missing_release.is_some() || gv != link.base {
        return Ok(None);
    }
    if ctx.plugin.direction != Direction::ToTestManagement
        && issue.marker != Some((link.tm_project, link.tm_item))
    {
        return Ok(None);
    }
    // New notes matter only where they may be copied to the test-management side.
    let paired = pass.store().comment_links(link.id)?.len();
    if ctx.plugin.direction != Direction::ToIssueTracker && issue.comment_count != paired as u64 {
        return Ok(None);
    }
    Ok(Some(Linked::Unchanged {
        link: link.id,
        side: Side::IssueTracker,
        item: issue.iid as i64,
        checked_at: None,
    }))
}
