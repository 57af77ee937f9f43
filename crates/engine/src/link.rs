//! Linking each changed item to its pair: through the link table, the
//! markers each side carries of the other (whichever database wrote them),
//! or not at all (a create). An item that holds nothing new for its pair
//! stops here; an orphaned link (its other side deleted or moved) too.

use crate::settings::Direction;
use crate::storage::Link;
use labsync_model::{CreatedBy, Side, Ticket};

use super::SyncError;
use super::connector::{TmItem, TrackerItem};
use super::context::ProjectCtx;
use super::counterpart::{self, Named, claimed_by_other, named_issue};
use super::create::{create_incident, create_issue};
use super::pair::{Action, Pair, Sides, incident_id, issue_reference, marks, new_link, sync_pair};
use super::pass::{Claim, Pass};
use super::resolve::{gitlab_view, spira_view};

/// Syncs an incident that changed: with its linked issue, or by creating one.
/// `whole`: the incident was just read by id (a search listing's copy is
/// not written back, and may be this cycle's own echo).
pub async fn from_incident(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    incident: &TmItem,
    whole: bool,
) -> Result<(), SyncError> {
    let id = incident_id(ctx, incident)?;
    let plugin = ctx.plugin.name.clone();
    let project = i64::from(ctx.spira_project);
    let linked = pass
        .store()
        .link_by_incident(&plugin, project, i64::from(id))?;
    if let Some(link) = linked {
        if link.orphaned.is_some() {
            return Ok(());
        }
        if !whole && incident_unchanged(ctx, pass, &link, incident, id).await? {
            return Ok(());
        }
        let Some(issue) = fetch_issue(ctx, pass, &link).await? else {
            return Ok(());
        };
        return sync_linked(ctx, pass, link, incident.clone(), whole, issue, false).await;
    }
    // Not linked: an issue the incident names is its pair, whichever
    // database wrote the name; it is never a reason to create another.
    let named = named_issue(ctx, incident);
    if let Named::Issue(iid) = named {
        return link_named_issue(ctx, pass, incident, whole, iid).await;
    }
    if let Some(who) = claimed_by_other(ctx, pass, &named) {
        return Err(counterpart::busy(id, &who));
    }
    if ctx.plugin.direction == Direction::ToTestManagement {
        return Ok(());
    }
    create_issue(ctx, pass, incident, whole).await
}

/// Syncs an issue that changed: with its linked incident, or by creating one.
pub async fn from_issue(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    issue: &TrackerItem,
) -> Result<(), SyncError> {
    let plugin = ctx.plugin.name.clone();
    let linked =
        pass.store()
            .link_by_issue(&plugin, ctx.gitlab_project_id as i64, issue.id as i64)?;
    if let Some(link) = linked {
        if link.orphaned.is_none() && issue.moved_to.is_some() {
            return super::moved::orphan_moved(ctx, pass, &link, issue).await;
        }
        if link.orphaned.is_some() || issue_unchanged(ctx, pass, &link, issue)? {
            return Ok(());
        }
        let incident = match ctx.tm.get(ctx.tm_project(), link.incident_id).await {
            Ok(i) => i,
            Err(e) if e.is_not_found() => {
                orphan(ctx, pass, &link, "the Spira incident was deleted")?;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        return sync_linked(ctx, pass, link, incident, true, issue.clone(), true).await;
    }
    // Not linked: the footer marker names the incident it was made for,
    // whichever database wrote it; it is never a reason to create another.
    if let Some((p, incident_id)) = issue.marker
        && p == ctx.tm_project()
    {
        return link_footer_incident(ctx, pass, issue, incident_id).await;
    }
    if ctx.plugin.direction == Direction::ToGitLab {
        return Ok(());
    }
    create_incident(ctx, pass, issue).await
}

/// An unlinked incident that names issue `iid`: linked to it, or, when
/// the issue is gone or linked to another incident, reported and left.
async fn link_named_issue(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    incident: &TmItem,
    whole: bool,
    iid: u64,
) -> Result<(), SyncError> {
    let id = incident_id(ctx, incident)?;
    // Two incidents may name one issue (a value copied by hand): one at a time.
    let _claim = pass.claim(Claim::Issue(iid as i64)).await;
    let issue = match ctx.tracker.get(&ctx.tracker_project, iid).await {
        Ok(issue) => issue,
        Err(e) if e.is_not_found() => {
            pass.warn(&ctx.plugin.name, format!("IN:{id} names #{iid}, which does not exist: no issue is created for it (clear {} to have one created)", ctx.tm.marker_name()));
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let taken = pass.store().link_by_issue(
        &ctx.plugin.name,
        ctx.gitlab_project_id as i64,
        issue.id as i64,
    )?;
    if let Some(other) = taken {
        pass.warn(
            &ctx.plugin.name,
            format!(
                "IN:{id} names #{iid} but #{iid} is linked to IN:{}: left as it is",
                other.incident_id
            ),
        );
        return Ok(());
    }
    link_existing(ctx, pass, incident.clone(), whole, issue, None).await
}

/// An unlinked issue whose footer names incident `incident_id`: linked to
/// it, or, when the incident is gone, linked to another issue, or names
/// another issue that carries its footer, reported and left.
async fn link_footer_incident(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    issue: &TrackerItem,
    incident_id: i64,
) -> Result<(), SyncError> {
    let (plugin, iid) = (&ctx.plugin.name, issue.iid);
    // Two issues may carry one footer (copied by hand): one at a time.
    let _claim = pass.claim(Claim::Incident(incident_id)).await;
    let project = i64::from(ctx.spira_project);
    if let Some(link) = pass
        .store()
        .link_by_incident(plugin, project, incident_id)?
    {
        pass.warn(plugin, format!("#{iid} carries the footer of IN:{incident_id}, which is linked to #{}: no incident is created for #{iid} (remove the footer to have one created)", link.issue_iid));
        return Ok(());
    }
    let Ok(id) = u32::try_from(incident_id) else {
        return Ok(());
    };
    let incident = match ctx.tm.get(ctx.tm_project(), i64::from(id)).await {
        Ok(incident) => incident,
        Err(e) if e.is_not_found() => {
            pass.warn(plugin, format!("#{iid} carries the footer of IN:{incident_id}, which does not exist: no incident is created for #{iid} (remove the footer to have one created)"));
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    if let Named::Issue(other) = named_issue(ctx, &incident)
        && other != iid
        && counterpart::issue_naming(ctx, pass, other, id)
            .await?
            .is_some()
    {
        pass.warn(plugin, format!("IN:{incident_id} names #{other} but #{iid} carries its footer too: #{iid} is left as it is"));
        return Ok(());
    }
    link_existing(ctx, pass, incident, true, issue.clone(), None).await
}

async fn fetch_issue(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    link: &Link,
) -> Result<Option<TrackerItem>, SyncError> {
    let found = match ctx
        .tracker
        .get(&ctx.tracker_project, link.issue_iid as u64)
        .await
    {
        Ok(issue) => Some(issue),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e.into()),
    };
    match found {
        Some(issue) if issue.id as i64 == link.issue_id && issue.moved_to.is_some() => {
            super::moved::orphan_moved(ctx, pass, link, &issue).await?;
            Ok(None)
        }
        Some(issue) if issue.id as i64 == link.issue_id => Ok(Some(issue)),
        // Same iid, other issue: the original was moved or deleted and the number reused.
        _ => {
            orphan(ctx, pass, link, "the GitLab issue was deleted or moved")?;
            Ok(None)
        }
    }
}

pub(super) fn orphan(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    link: &Link,
    reason: &str,
) -> Result<(), SyncError> {
    tracing::warn!(plugin = %ctx.plugin.name, incident = link.incident_id, issue = link.issue_iid, reason, "link orphaned; nothing is deleted on the other side");
    if !pass.dry_run {
        pass.store().mark_orphaned(link.id, reason)?;
    }
    pass.count(|c| c.orphaned += 1);
    Ok(())
}

/// A pair found on both sides without a link (by marker): link it, and
/// settle differences by the conflict policy.
pub(super) async fn link_existing(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    incident: TmItem,
    whole: bool,
    issue: TrackerItem,
    intent: Option<i64>,
) -> Result<(), SyncError> {
    let id = incident_id(ctx, &incident)?;
    let link = new_link(ctx, id, &issue, CreatedBy::Matched, Ticket::default());
    sync_found(ctx, pass, link, incident, whole, issue, intent).await
}

/// Syncs a pair just found (by marker) without a base.
async fn sync_found(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    link: Link,
    incident: TmItem,
    whole: bool,
    issue: TrackerItem,
    intent: Option<i64>,
) -> Result<(), SyncError> {
    pass.count(|c| c.linked += 1);
    let sides = Sides {
        incident,
        whole,
        issue,
        by_issue: false,
    };
    let pair = Pair {
        link,
        base: None,
        sides,
        intent,
        action: Action::Link,
    };
    sync_pair(ctx, pass, pair).await
}

/// Moves a link to the issue its incident names, and syncs the pair as
/// one found by marker (no base: differences go by the conflict policy).
async fn relink(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    mut link: Link,
    incident: TmItem,
    whole: bool,
    issue: TrackerItem,
) -> Result<(), SyncError> {
    if !pass.dry_run {
        pass.store()
            .relink_issue(link.id, issue.id as i64, issue.iid as i64, &issue.web_url)?;
    }
    link.issue_id = issue.id as i64;
    link.issue_iid = issue.iid as i64;
    link.issue_url = issue.web_url.clone();
    link.created_by = CreatedBy::Matched;
    link.base = Ticket::default();
    link.last_note_id = 0;
    link.orphaned = None;
    sync_found(ctx, pass, link, incident, whole, issue, None).await
}

async fn sync_linked(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    link: Link,
    incident: TmItem,
    whole: bool,
    issue: TrackerItem,
    by_issue: bool,
) -> Result<(), SyncError> {
    // The incident's property is the register every writer sets with a
    // compare-and-set: when it names another issue that carries this
    // incident's footer, another install made that issue and it is the
    // pair; this link is orphaned (its issue left as it is, reported).
    if let Named::Issue(named) = named_issue(ctx, &incident)
        && named != link.issue_iid as u64
    {
        let id = incident_id(ctx, &incident)?;
        if let Some(other) = counterpart::issue_naming(ctx, pass, named, id).await? {
            let z = link.issue_iid;
            pass.warn(&ctx.plugin.name, format!("IN:{id} names #{named} but is linked to #{z}: linked to #{named} instead; #{z} is left as it is"));
            return relink(ctx, pass, link, incident, whole, other).await;
        }
    }
    let base = link.base.clone();
    let sides = Sides {
        incident,
        whole,
        issue,
        by_issue,
    };
    let pair = Pair {
        link,
        base: Some(base),
        sides,
        intent: None,
        action: Action::Update,
    };
    sync_pair(ctx, pass, pair).await
}

/// The incident, as listed, holds nothing new for its pair: its fields
/// resolve to the base, it names its issue, and it has no comment newer
/// than those already handled. Then the issue need not be read (a change
/// there is the GitLab listing's to find). Costs one read of comments.
async fn incident_unchanged(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    link: &Link,
    incident: &TmItem,
    id: u32,
) -> Result<bool, SyncError> {
    let reference = issue_reference(ctx, link.issue_iid as u64);
    if spira_view(incident, Some(&link.base)) != link.base || !marks(ctx, incident, &reference) {
        return Ok(false);
    }
    let comments = ctx.tm.comments(ctx.tm_project(), i64::from(id)).await?;
    let newest = comments.iter().filter_map(|c| c.id).max().unwrap_or(0);
    if newest > link.last_comment_id {
        return Ok(false);
    }
    if !pass.dry_run {
        let mut store = pass.store();
        if let Some(now) = ctx.tm.server_now() {
            store.mark_comments_checked(link.id, now)?;
        }
        let project = link.spira_project;
        store.clear_error(
            &ctx.plugin.name,
            project,
            Side::TestManagement,
            link.incident_id,
        )?;
    }
    pass.held_nothing_new(link.incident_id);
    Ok(true)
}

/// The issue, as listed, holds nothing new for its pair: its fields
/// resolve to the base, it carries the footer, and its count of user
/// notes is the count already paired. No request is needed to know it.
fn issue_unchanged(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    link: &Link,
    issue: &TrackerItem,
) -> Result<bool, SyncError> {
    let (gv, missing_release) = gitlab_view(ctx, issue, Some(&link.base), &link.gitlab_kept);
    if missing_release.is_some() || gv != link.base {
        return Ok(false);
    }
    if ctx.plugin.direction != Direction::ToTestManagement
        && issue.marker != Some((link.spira_project, link.incident_id))
    {
        return Ok(false);
    }
    // New notes matter only where they may be copied to Spira.
    let paired = pass.store().comment_links(link.id)?.len();
    if ctx.plugin.direction != Direction::ToGitLab && issue.comment_count != paired as u64 {
        return Ok(false);
    }
    // An earlier failure of this issue has nothing left to retry.
    if !pass.dry_run {
        pass.store().clear_error(
            &ctx.plugin.name,
            link.spira_project,
            Side::IssueTracker,
            issue.iid as i64,
        )?;
    }
    Ok(true)
}
