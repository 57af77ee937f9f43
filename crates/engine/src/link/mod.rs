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
use labsync_model::Side;

mod gone;
mod marker;
mod unchanged;

pub(crate) use marker::matched;

use gone::{fetch_issue, orphan, orphan_moved};
use marker::{link_footer_incident, link_named_issue, relink};
use unchanged::{incident_unchanged, issue_unchanged};

use super::SyncError;
use super::connector::{TmItem, TrackerItem};
use super::context::ProjectCtx;
use super::counterpart::{self, Named, claimed_by_other, named_issue};
use super::pair::{Action, Pair, Sides, incident_id};
use super::pass::Pass;

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
    let project = i64::from(ctx.tm_project);
    let linked = pass
        .store()
        .link_by_tm_item(&plugin, project, i64::from(id))?;
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
    let linked = pass.store().link_by_tracker_item(
        &plugin,
        ctx.tracker_project_id as i64,
        issue.id as i64,
    )?;
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
        let incident = match ctx.tm.get(ctx.tm_project(), link.tm_item).await {
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
    if ctx.plugin.direction == Direction::ToIssueTracker {
        return Ok(Linked::Nothing);
    }
    Ok(Linked::NewIssue(issue.clone()))
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
        && named != link.tracker_iid as u64
    {
        let id = incident_id(ctx, &incident)?;
        if let Some(other) = counterpart::issue_naming(ctx, pass, named, id).await? {
            let z = link.tracker_iid;
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
