//! Issues moved to another project. GitLab keeps the original, closed,
//! with `moved_to_id` set, and makes a new issue in the target project
//! (`Issues::MoveService`). That close is not a close of the incident: the
//! pair's link is orphaned, saying where the issue went, and nothing is
//! closed, edited or created because of it.

use super::SyncError;
use super::connector::TrackerItem;
use super::context::ProjectCtx;

/// Where an issue that was moved away went, for the orphaned link's reason.
pub async fn moved_where(ctx: &ProjectCtx<'_>, issue: &TrackerItem) -> Result<String, SyncError> {
    let to = ctx
        .tracker
        .moved_where(&ctx.tracker_project, issue.iid)
        .await?;
    Ok(to.unwrap_or_else(|| {
        format!(
            "another project (issue id {})",
            issue.moved_to.unwrap_or_default()
        )
    }))
}
