//! Issues moved to another project. GitLab keeps the original, closed,
//! with `moved_to_id` set, and makes a new issue in the target project
//! (`Issues::MoveService`). That close is not a close of the incident: the
//! pair's link is orphaned, saying where the issue went, and nothing is
//! closed, edited or created because of it.

use futures_util::TryStreamExt;

use crate::gitlab::Issue;
use crate::store::links::Link;

use super::SyncError;
use super::context::ProjectCtx;
use super::pair::{Pass, orphan};

/// Orphans the link of an issue that was moved away.
pub async fn orphan_moved(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    link: &Link,
    issue: &Issue,
) -> Result<(), SyncError> {
    let to = match where_moved(ctx, issue).await? {
        Some(reference) => reference,
        None => format!(
            "another project (issue id {})",
            issue.moved_to_id.unwrap_or_default()
        ),
    };
    orphan(
        ctx,
        pass,
        link,
        &format!("the GitLab issue was moved to {to}"),
    )
}

/// Where the issue went, as GitLab's system note on the original says
/// ("moved to group/project#12"; `SystemNotes::IssuablesService#noteable_moved`).
/// A project id alone cannot be resolved to a path without admin rights
/// (`GET /issues/:id` is for administrators only).
async fn where_moved(ctx: &ProjectCtx<'_>, issue: &Issue) -> Result<Option<String>, SyncError> {
    let notes: Vec<_> = ctx
        .gitlab
        .list_notes(&ctx.gitlab_ref, issue.iid)
        .try_collect()
        .await?;
    Ok(notes
        .iter()
        .rev()
        .filter(|n| n.system)
        .find_map(|n| n.body.strip_prefix("moved to ").map(str::trim))
        .map(String::from))
}
