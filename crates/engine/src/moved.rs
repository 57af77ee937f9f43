//! Issues moved to another project. GitLab keeps the original, closed,
//! with `moved_to_id` set, and makes a new issue in the target project
//! (`Issues::MoveService`). That close is not a close of the incident: the
//! pair's link is orphaned, saying where the issue went, and nothing is
//! closed, edited or created because of it.

use crate::storage::Link;

use super::SyncError;
use super::connector::TrackerItem;
use super::context::ProjectCtx;
use super::link::orphan;
use super::pass::Pass;

/// Orphans the link of an issue that was moved away.
pub async fn orphan_moved(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    link: &Link,
    issue: &TrackerItem,
) -> Result<(), SyncError> {
    let to = match ctx
        .tracker
        .moved_where(&ctx.tracker_project, issue.iid)
        .await?
    {
        Some(reference) => reference,
        None => format!(
            "another project (issue id {})",
            issue.moved_to.unwrap_or_default()
        ),
    };
    orphan(
        ctx,
        pass,
        link,
        &format!("the GitLab issue was moved to {to}"),
    )
}
