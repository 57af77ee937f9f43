//! Linking each changed item to its pair: through the link table, the
//! markers each side carries of the other (whichever database wrote them),
//! or not at all (a new item). Reads only: what it finds is a `Linked`,
//! which a sync carries out (`apply::Apply`) and a plan records
//! (`preview::Preview`).

use chrono::{DateTime, Utc};
use tokio::sync::OwnedMutexGuard;

use crate::settings::Direction;
use crate::storage::Link;
use crate::storage::StoreError;
use labsync_model::{CreatedBy, Side, Ticket};

use super::SyncError;
use super::connector::{TmItem, TrackerItem};
use super::context::ProjectCtx;
use super::counterpart::{self, Named, claimed_by_other, named_issue};
use super::pair::{Action, Pair, Sides, incident_id, issue_reference, marks, new_link};
use super::pass::{Claim, Pass};
use super::resolve::{gitlab_view, spira_view};

/// What an item changed this cycle comes to, once linked.
pub(super) enum Linked {
    /// Nothing to write: its link is orphaned, it names a counterpart
    /// linked elsewhere (warned), or the direction lets nothing cross.
    Nothing,
    /// Listed, but nothing new for its pair: its link was checked now
    /// (`checked_at`, by the server's clock), and an error queued for it
    /// has nothing left to retry.
    Unchanged {
        link: i64,
        side: Side,
        item: i64,
        checked_at: Option<DateTime<Utc>>,
    },
    /// Its counterpart is gone (deleted, moved): the link is orphaned;
    /// nothing is deleted on the other side.
    Orphan { link: i64, reason: String },
    /// A pair to sync. `relinked`: its link moves to the issue the incident
    /// names. `claim`: held until the pair is synced, so that two items
    /// naming one counterpart are matched one after the other.
    Pair {
        pair: Box<Pair>,
        relinked: bool,
        claim: Option<OwnedMutexGuard<()>>,
    },
    /// A new incident: an issue is created for it.
    NewIncident { incident: TmItem, whole: bool },
    /// A new issue: an incident is created for it.
    NewIssue(TrackerItem),
}

/// What a pass does with each item once linked: a sync carries it out
/// ([`super::apply::Apply`]), a plan records what that would write
/// ([`super::preview::Preview`]).
pub(super) trait Finish: Sync {
    async fn linked(
        &self,
        ctx: &ProjectCtx<'_>,
        pass: &Pass<'_>,
        linked: Linked,
    ) -> Result<(), SyncError>;

    /// Queues an item that failed, to be retried on later cycles.
    fn queue(&self, pass: &Pass<'_>, failed: &Failed<'_>) -> Result<(), StoreError>;
}

/// An item that failed.
pub(super) struct Failed<'a> {
    pub plugin: &'a str,
    pub project: i64,
    pub side: Side,
    pub item: i64,
    pub error: &'a SyncError,
}

/// Links an incident that changed, then finishes it.
pub(super) async fn from_incident(
    finish: &impl Finish,
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    item: &TmItem,
    whole: bool,
) -> Result<(), SyncError> {
    let linked = incident(ctx, pass, item, whole).await?;
    finish.linked(ctx, pass, linked).await
}

/// Links an issue that changed, then finishes it.
pub(super) async fn from_issue(
    finish: &impl Finish,
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    item: &TrackerItem,
) -> Result<(), SyncError> {
    let linked = issue(ctx, pass, item).await?;
    finish.linked(ctx, pass, linked).await
}

/// Links an incident that changed: to its linked issue, to the issue it
/// names, or to none (new). `whole`: the incident was just read by id (a
/// search listing's copy is not written back, and may be this cycle's own
/// echo).
pub(super) async fn incident(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    incident: &TmItem,
    whole: bool,
) -> Result<Linked, SyncError> {
    let id = incident_id(ctx, incident)?;
    let plugin = ctx.plugin.name.clone();
    let project = i64::from(ctx.spira_project);
    let linked = pass
        .store()
        .link_by_incident(&plugin, project, i64::from(id))?;
    if let Some(link) = linked {
        if link.orphaned.is_some() {
            return Ok(Linked::Nothing);
        }
        if !whole
            && let Some(unchanged) = incident_unchanged(ctx, pass, &link, incident, id).await?
        {
            return Ok(unchanged);
        }
        let issue = match fetch_issue(ctx, &link).await? {
            Ok(issue) => issue,
            Err(orphan) => return Ok(orphan),
        };
        return linked_pair(ctx, pass, link, incident.clone(), whole, issue, false).await;
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
        return Ok(Linked::Nothing);
    }
    Ok(Linked::NewIncident {
        incident: incident.clone(),
        whole,
    })
}

/// Links an issue that changed: to its linked incident, to the incident
/// its footer names, or to none (new).
pub(super) async fn issue(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    issue: &TrackerItem,
) -> Result<Linked, SyncError> {
    let plugin = ctx.plugin.name.clone();
    let linked =
        pass.store()
            .link_by_issue(&plugin, ctx.gitlab_project_id as i64, issue.id as i64)?;
    if let Some(link) = linked {
        if link.orphaned.is_none() && issue.moved_to.is_some() {
            return orphan_moved(ctx, &link, issue).await;
        }
        if link.orphaned.is_some() {
            return Ok(Linked::Nothing);
        }
        if let Some(unchanged) = issue_unchanged(ctx, pass, &link, issue)? {
            return Ok(unchanged);
        }
        let incident = match ctx.tm.get(ctx.tm_project(), link.incident_id).await {
            Ok(i) => i,
            Err(e) if e.is_not_found() => {
                return Ok(orphan(ctx, &link, "the Spira incident was deleted"));
            }
            Err(e) => return Err(e.into()),
        };
        return linked_pair(ctx, pass, link, incident, true, issue.clone(), true).await;
    }
    // Not linked: the footer marker names the incident it was made for,
    // whichever database wrote it; it is never a reason to create another.
    if let Some((p, incident_id)) = issue.marker
        && p == ctx.tm_project()
    {
        return link_footer_incident(ctx, pass, issue, incident_id).await;
    }
    if ctx.plugin.direction == Direction::ToGitLab {
        return Ok(Linked::Nothing);
    }
    Ok(Linked::NewIssue(issue.clone()))
}

/// An unlinked incident that names issue `iid`: linked to it, or, when
/// the issue is gone or linked to another incident, reported and left.
async fn link_named_issue(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    incident: &TmItem,
    whole: bool,
    iid: u64,
) -> Result<Linked, SyncError> {
    let id = incident_id(ctx, incident)?;
    // Two incidents may name one issue (a value copied by hand): one at a time.
    let claim = pass.claim(Claim::Issue(iid as i64)).await;
    let issue = match ctx.tracker.get(&ctx.tracker_project, iid).await {
        Ok(issue) => issue,
        Err(e) if e.is_not_found() => {
            pass.warn(&ctx.plugin.name, format!("IN:{id} names #{iid}, which does not exist: no issue is created for it (clear {} to have one created)", ctx.tm.marker_name()));
            return Ok(Linked::Nothing);
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
        return Ok(Linked::Nothing);
    }
    let found = matched(ctx, pass, incident.clone(), whole, issue, None)?;
    Ok(Linked::Pair {
        pair: Box::new(found),
        relinked: false,
        claim: Some(claim),
    })
}

/// An unlinked issue whose footer names incident `incident_id`: linked to
/// it, or, when the incident is gone, linked to another issue, or names
/// another issue that carries its footer, reported and left.
async fn link_footer_incident(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    issue: &TrackerItem,
    incident_id: i64,
) -> Result<Linked, SyncError> {
    let (plugin, iid) = (&ctx.plugin.name, issue.iid);
    // Two issues may carry one footer (copied by hand): one at a time.
    let claim = pass.claim(Claim::Incident(incident_id)).await;
    let project = i64::from(ctx.spira_project);
    if let Some(link) = pass
        .store()
        .link_by_incident(plugin, project, incident_id)?
    {
        pass.warn(plugin, format!("#{iid} carries the footer of IN:{incident_id}, which is linked to #{}: no incident is created for #{iid} (remove the footer to have one created)", link.issue_iid));
        return Ok(Linked::Nothing);
    }
    let Ok(id) = u32::try_from(incident_id) else {
        return Ok(Linked::Nothing);
    };
    let incident = match ctx.tm.get(ctx.tm_project(), i64::from(id)).await {
        Ok(incident) => incident,
        Err(e) if e.is_not_found() => {
            pass.warn(plugin, format!("#{iid} carries the footer of IN:{incident_id}, which does not exist: no incident is created for #{iid} (remove the footer to have one created)"));
            return Ok(Linked::Nothing);
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
        return Ok(Linked::Nothing);
    }
    let found = matched(ctx, pass, incident, true, issue.clone(), None)?;
    Ok(Linked::Pair {
        pair: Box::new(found),
        relinked: false,
        claim: Some(claim),
    })
}

/// The link's issue, or the link orphaned when it is gone (deleted, moved,
/// or its number reused by another issue).
async fn fetch_issue(
    ctx: &ProjectCtx<'_>,
    link: &Link,
) -> Result<Result<TrackerItem, Linked>, SyncError> {
    let found = match ctx
        .tracker
        .get(&ctx.tracker_project, link.issue_iid as u64)
        .await
    {
        Ok(issue) => Some(issue),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e.into()),
    };
    Ok(match found {
        Some(issue) if issue.id as i64 == link.issue_id && issue.moved_to.is_some() => {
            Err(orphan_moved(ctx, link, &issue).await?)
        }
        Some(issue) if issue.id as i64 == link.issue_id => Ok(issue),
        // Same iid, other issue: the original was moved or deleted and the number reused.
        _ => Err(orphan(ctx, link, "the GitLab issue was deleted or moved")),
    })
}

/// The link orphaned, for `reason`.
fn orphan(ctx: &ProjectCtx<'_>, link: &Link, reason: &str) -> Linked {
    tracing::warn!(plugin = %ctx.plugin.name, incident = link.incident_id, issue = link.issue_iid, reason, "link orphaned; nothing is deleted on the other side");
    Linked::Orphan {
        link: link.id,
        reason: reason.to_string(),
    }
}

/// The link of an issue moved away, orphaned, saying where it went.
async fn orphan_moved(
    ctx: &ProjectCtx<'_>,
    link: &Link,
    issue: &TrackerItem,
) -> Result<Linked, SyncError> {
    let to = super::moved::moved_where(ctx, issue).await?;
    Ok(orphan(
        ctx,
        link,
        &format!("the GitLab issue was moved to {to}"),
    ))
}

/// A pair found on both sides without a link (by marker): linked, with
/// no base (differences go by the conflict policy).
pub(super) fn matched(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    incident: TmItem,
    whole: bool,
    issue: TrackerItem,
    intent: Option<i64>,
) -> Result<Pair, SyncError> {
    let id = incident_id(ctx, &incident)?;
    let link = new_link(ctx, id, &issue, CreatedBy::Matched, Ticket::default());
    Ok(found_pair(pass, link, incident, whole, issue, intent))
}

/// A pair matched by marker, to be synced without a base.
fn found_pair(
    pass: &Pass<'_>,
    link: Link,
    incident: TmItem,
    whole: bool,
    issue: TrackerItem,
    intent: Option<i64>,
) -> Pair {
    pass.count(|c| c.linked += 1);
    let sides = Sides {
        incident,
        whole,
        issue,
        by_issue: false,
    };
    Pair {
        link,
        base: None,
        sides,
        intent,
        action: Action::Link,
    }
}

/// Moves a link to the issue its incident names, and syncs the pair as
/// one found by marker (no base: differences go by the conflict policy).
fn relink(
    pass: &Pass<'_>,
    mut link: Link,
    incident: TmItem,
    whole: bool,
    issue: TrackerItem,
) -> Linked {
    link.issue_id = issue.id as i64;
    link.issue_iid = issue.iid as i64;
    link.issue_url = issue.web_url.clone();
    link.created_by = CreatedBy::Matched;
    link.base = Ticket::default();
    link.last_note_id = 0;
    link.orphaned = None;
    Linked::Pair {
        pair: Box::new(found_pair(pass, link, incident, whole, issue, None)),
        relinked: true,
        claim: None,
    }
}

/// A linked pair, or the pair its incident names now (another install
/// made that issue).
async fn linked_pair(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    link: Link,
    incident: TmItem,
    whole: bool,
    issue: TrackerItem,
    by_issue: bool,
) -> Result<Linked, SyncError> {
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
            return Ok(relink(pass, link, incident, whole, other));
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
    Ok(Linked::Pair {
        pair: Box::new(pair),
        relinked: false,
        claim: None,
    })
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
) -> Result<Option<Linked>, SyncError> {
    let reference = issue_reference(ctx, link.issue_iid as u64);
    if spira_view(incident, Some(&link.base)) != link.base || !marks(ctx, incident, &reference) {
        return Ok(None);
    }
    let comments = ctx.tm.comments(ctx.tm_project(), i64::from(id)).await?;
    let newest = comments.iter().filter_map(|c| c.id).max().unwrap_or(0);
    if newest > link.last_comment_id {
        return Ok(None);
    }
    pass.held_nothing_new(link.incident_id);
    Ok(Some(Linked::Unchanged {
        link: link.id,
        side: Side::TestManagement,
        item: link.incident_id,
        checked_at: ctx.tm.server_now(),
    }))
}

/// The issue, as listed, holds nothing new for its pair: its fields
/// resolve to the base, it carries the footer, and its count of user
/// notes is the count already paired. No request is needed to know it.
fn issue_unchanged(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    link: &Link,
    issue: &TrackerItem,
) -> Result<Option<Linked>, SyncError> {
    let (gv, missing_release) = gitlab_view(ctx, issue, Some(&link.base), &link.gitlab_kept);
    if missing_release.is_some() || gv != link.base {
        return Ok(None);
    }
    if ctx.plugin.direction != Direction::ToTestManagement
        && issue.marker != Some((link.spira_project, link.incident_id))
    {
        return Ok(None);
    }
    // New notes matter only where they may be copied to Spira.
    let paired = pass.store().comment_links(link.id)?.len();
    if ctx.plugin.direction != Direction::ToGitLab && issue.comment_count != paired as u64 {
        return Ok(None);
    }
    Ok(Some(Linked::Unchanged {
        link: link.id,
        side: Side::IssueTracker,
        item: issue.iid as i64,
        checked_at: None,
    }))
}
