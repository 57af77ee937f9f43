//! One incident/issue pair: merge, write, copy comments, commit.
//!
//! Creates are idempotent: an intent row is committed before the remote
//! create, the created object carries a marker (the issue's footer, the
//! incident's "GitLab Issue" property), and a pending intent is settled by
//! looking for its marker before anything is created again.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use crate::config::Direction;
use crate::model::{Connectors, CreatedBy, Field, GitLabKept, Side, Ticket};
use crate::store::Store;
use crate::store::links::{Event, ItemCommit, Link};

use super::comments::{Known, sync_comments};
use super::connector::issue_tracker::TmLink;
use super::connector::{
    StateChange, TmEdit, TmItem, TrackerEdit, TrackerItem, TrackerLink, TrackerNew,
};
use super::context::ProjectCtx;
use super::counterpart::{self, Named, claimed_by_other, named_issue};
use super::kept;
use super::merge::{SideView, merge};
use super::plan::PlannedWrite;
use super::report::Counts;
use super::resolve::{gitlab_view, spira_view};
use super::write::{incident_edit, issue_edit, new_issue, release_for};
use super::{SyncError, lock};

/// The shared state of a project's pass: what to do, and what was done.
/// Items in flight together share it; its locks are never held across an
/// await.
pub struct Pass<'s> {
    pub store: Mutex<&'s mut Store>,
    pub run_id: Option<i64>,
    pub dry_run: bool,
    counts: Mutex<Counts>,
    /// What a dry run would do, with the order of the item it is about
    /// (items finish out of order).
    planned: Mutex<Vec<(u64, PlannedWrite)>>,
    pub progress: Option<std::sync::Arc<super::report::Progress>>,
    /// Pairs being matched by marker right now, so two items that name the
    /// same counterpart are matched one after the other.
    claims: Mutex<HashMap<Claim, Arc<tokio::sync::Mutex<()>>>>,
    /// Incidents listed this cycle that held nothing new: their issues are
    /// still looked at from the GitLab side.
    unchanged: Mutex<HashSet<i64>>,
    /// This database's install id (claims on the servers carry it).
    pub install: String,
    /// Items left alone because they name a counterpart linked elsewhere.
    warnings: Mutex<Vec<(u64, String)>>,
    /// Incidents whose issue has a note newer than any seen (found by the
    /// comment sweep): their notes are read whatever their count says.
    new_notes: Mutex<HashSet<i64>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Claim {
    Incident(i64),
    Issue(i64),
}

tokio::task_local! {
    /// The listing order of the item a future works on (for the plan's order).
    pub static ITEM_ORDER: u64;
}

impl<'s> Pass<'s> {
    pub fn new(
        store: &'s mut Store,
        run_id: Option<i64>,
        dry_run: bool,
        progress: Option<std::sync::Arc<super::report::Progress>>,
    ) -> Pass<'s> {
        Pass {
            store: Mutex::new(store),
            run_id,
            dry_run,
            counts: Mutex::default(),
            planned: Mutex::default(),
            progress,
            claims: Mutex::default(),
            unchanged: Mutex::default(),
            install: String::new(),
            warnings: Mutex::default(),
            new_notes: Mutex::default(),
        }
    }

    /// Marks the incident's issue as holding a note newer than any seen.
    pub fn note_is_new(&self, incident_id: i64) {
        lock(&self.new_notes).insert(incident_id);
    }

    /// Reports an item left alone (a conflict between counterparts for a
    /// person to settle): logged, counted, listed in the cycle's report.
    pub fn warn(&self, plugin: &str, line: String) {
        tracing::warn!(plugin, "{line}");
        let order = ITEM_ORDER.try_with(|o| *o).unwrap_or(u64::MAX);
        lock(&self.warnings).push((order, line));
        self.count(|c| c.conflicts += 1);
    }

    /// True when the incident was listed this cycle but held nothing new.
    pub fn found_unchanged(&self, incident_id: i64) -> bool {
        lock(&self.unchanged).contains(&incident_id)
    }

    /// The database, for one statement or transaction (never across an await).
    pub fn store(&self) -> MutexGuard<'_, &'s mut Store> {
        lock(&self.store)
    }

    pub fn count(&self, f: impl FnOnce(&mut Counts)) {
        f(&mut lock(&self.counts));
    }

    /// Notes a write of a dry run's plan.
    pub fn plan(&self, write: PlannedWrite) {
        let order = ITEM_ORDER.try_with(|o| *o).unwrap_or(u64::MAX);
        lock(&self.planned).push((order, write));
    }

    /// Waits until no other item is matching a pair through `claim`.
    pub async fn claim(&self, claim: Claim) -> tokio::sync::OwnedMutexGuard<()> {
        let cell = lock(&self.claims).entry(claim).or_default().clone();
        cell.lock_owned().await
    }

    /// What was done (counts), planned and warned about, in the order items
    /// were listed.
    pub fn into_outcome(self) -> (Counts, Vec<PlannedWrite>, Vec<String>) {
        let counts = self
            .counts
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let mut planned = self
            .planned
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let mut warnings = self
            .warnings
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        planned.sort_by_key(|(order, _)| *order);
        warnings.sort_by_key(|(order, _)| *order);
        let planned = planned.into_iter().map(|(_, w)| w).collect();
        let warnings = warnings.into_iter().map(|(_, l)| l).collect();
        (counts, planned, warnings)
    }
}

/// The link back the issue carries to its incident (GitLab's footer).
fn footer(ctx: &ProjectCtx<'_>, incident_id: u32) -> TmLink {
    let item = i64::from(incident_id);
    TmLink {
        project: ctx.tm_project(),
        item,
        url: ctx.tm.web_url(ctx.tm_project(), item),
    }
}

/// The marker the incident keeps of its issue (Spira's "GitLab Issue" property).
pub fn issue_reference(ctx: &ProjectCtx<'_>, iid: u64) -> String {
    ctx.tracker.reference(&ctx.gitlab_path, iid)
}

/// Whether the incident's marker is `reference`.
fn marks(ctx: &ProjectCtx<'_>, incident: &TmItem, reference: &str) -> bool {
    ctx.tm.marker(ctx.tm_project(), incident).as_deref() == Some(reference)
}

fn incident_id(ctx: &ProjectCtx<'_>, incident: &TmItem) -> Result<u32, SyncError> {
    let bad = || SyncError::BadAnswer {
        side: ctx.tm.name(),
        item: format!("incident '{}'", incident.title),
        field: "IncidentId",
    };
    let id = incident.id.ok_or_else(bad)?;
    u32::try_from(id).map_err(|_| bad())
}

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
async fn link_existing(
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
    sync_pair(ctx, pass, link, None, sides, intent, Action::Link).await
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
    sync_pair(ctx, pass, link, Some(base), sides, None, Action::Update).await
}

/// The two sides of a pair as read this cycle.
struct Sides {
    incident: TmItem,
    /// The incident was read by id just now, so a write can start from it.
    whole: bool,
    issue: TrackerItem,
    /// Synced because the issue changed (the incident was not listed).
    by_issue: bool,
}

/// Why a pair is synced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Update,
    Link,
    /// The item on this side was just created.
    Created(Side),
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
    lock(&pass.unchanged).insert(link.incident_id);
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

/// Merges one pair against its base, writes what must cross, copies
/// comments, and commits the outcome in one transaction.
#[allow(clippy::too_many_arguments)]
async fn sync_pair(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    mut link: Link,
    base: Option<Ticket>,
    sides: Sides,
    intent: Option<i64>,
    action: Action,
) -> Result<(), SyncError> {
    let Sides {
        incident,
        whole,
        issue,
        by_issue,
    } = sides;
    let known = Known {
        created: match action {
            Action::Created(side) => Some(side),
            _ => None,
        },
        issue_notes: issue.comment_count,
        new_note: lock(&pass.new_notes).contains(&link.incident_id),
        spira_comments: !by_issue,
    };
    let id = incident_id(ctx, &incident)?;
    let sv = spira_view(&incident, base.as_ref());
    // A create's answer is read like any write's: what GitLab kept of it.
    let mut kept_events = Vec::new();
    if action == Action::Created(Side::IssueTracker)
        && let Some(b) = &base
    {
        let before = GitLabKept::default();
        let (kept, events) =
            kept::settle(ctx, (id, issue.iid), &before, None, b, &issue, &Field::ALL);
        link.gitlab_kept = kept;
        kept_events = events;
    }
    let (mut gv, missing_release) = gitlab_view(ctx, &issue, base.as_ref(), &link.gitlab_kept);
    // A milestone crosses only where GitLab may write Spira.
    if let Some(title) = missing_release.filter(|_| ctx.plugin.direction != Direction::ToGitLab) {
        if pass.dry_run {
            pass.plan(PlannedWrite::CreateRelease { milestone: title });
        } else {
            gv.release = Some(release_for(ctx, &pass.store, &title).await?);
        }
    }
    let changed_at = |t: Option<DateTime<Utc>>| t.unwrap_or(DateTime::<Utc>::MIN_UTC);
    let m = merge(
        base.as_ref(),
        SideView {
            ticket: &sv,
            changed_at: changed_at(incident.updated_at),
        },
        SideView {
            ticket: &gv,
            changed_at: issue.updated_at,
        },
        ctx.plugin.conflict,
        ctx.plugin.direction,
    );
    let mut merged = m.merged.clone();
    let to_gitlab = m.to_gitlab.clone();
    let footer = footer(ctx, id);
    // The footer (with its marker) must be on the issue, whatever else
    // changed; when only the footer is missing, the text people wrote is
    // kept exactly as written.
    let footer_missing = issue.marker != Some((ctx.tm_project(), i64::from(id)))
        && ctx.plugin.direction != Direction::ToTestManagement;
    let reference = issue_reference(ctx, issue.iid);
    let needs_property = !marks(ctx, &incident, &reference);
    let mut events = field_events(&m, &sv, &gv);
    events.append(&mut kept_events);
    if pass.dry_run {
        let incident = i64::from(id);
        for &field in &to_gitlab {
            pass.plan(PlannedWrite::SetIssueField {
                issue: issue.iid,
                incident,
                field,
            });
        }
        for &field in &m.to_test_management {
            pass.plan(PlannedWrite::SetIncidentField {
                incident,
                issue: issue.iid,
                field,
            });
        }
        for c in &m.conflicts {
            pass.plan(PlannedWrite::Conflict {
                incident,
                issue: issue.iid,
                field: c.field,
                winner: c.winner,
            });
        }
        let linked = pass.store().comment_links(link.id)?;
        let comments = sync_comments(ctx, &linked, id, issue.iid, true, known).await?;
        for write in comments.planned {
            pass.plan(write);
        }
        return Ok(());
    }
    // The answer of the edit, and the fields it carried.
    let mut answered = None;
    if !to_gitlab.is_empty() || footer_missing {
        let mut edit = issue_edit(ctx, &pass.store, &issue, &merged, &to_gitlab, &footer).await?;
        if footer_missing && edit.body.is_none() {
            // The text people wrote, as written, with the footer under it.
            edit.body = Some(issue.body.clone());
            edit.link = Some(footer.clone());
        }
        if !edit.is_empty() {
            let answer = ctx
                .tracker
                .update(&ctx.tracker_project, issue.iid, &edit)
                .await?;
            answered = Some(answer);
            // Writing only the footer (the link back to a new incident, or one
            // someone deleted) is not an update of the issue's
            // fields: the log says so, and the table does not count it.
            if to_gitlab.is_empty() {
                tracing::info!(plugin = %ctx.plugin.name, project = ctx.spira_project, incident = id, issue = issue.iid, direction = "to-gitlab", "wrote the link footer on the issue");
            } else {
                tracing::info!(plugin = %ctx.plugin.name, project = ctx.spira_project, incident = id, issue = issue.iid, fields = ?names(&to_gitlab), direction = "to-gitlab", "updated issue");
                pass.count(|c| c.updated_issues += 1);
            }
        }
    }
    if !m.to_test_management.is_empty() || needs_property {
        let fields = m.to_test_management.clone();
        let edit = TmEdit {
            link: Some(TrackerLink {
                marker: reference.clone(),
                url: Some(issue.web_url.clone()),
            }),
            ..incident_edit(&merged, &fields)
        };
        // Read back only to learn whether Spira kept a status change.
        let read_back = fields.contains(&Field::Status);
        let current = whole.then(|| incident.clone());
        let saved = ctx
            .tm
            .update(ctx.tm_project(), i64::from(id), current, &edit, read_back)
            .await?;
        // The base holds what Spira kept (it may refuse a status change).
        let kept = spira_view(&saved, Some(&merged));
        if kept.status != merged.status && fields.contains(&Field::Status) {
            tracing::warn!(plugin = %ctx.plugin.name, incident = id, "Spira kept the incident's status: its workflow does not let the API change it");
            events.push(Event {
                action: "refused".into(),
                field: Some("status".into()),
                direction: Some("to-test-management"),
                before: None,
                after: None,
                conflict: false,
                decision: Some("Spira kept its status".into()),
            });
        }
        merged = Ticket {
            status: kept.status,
            ..merged
        };
        if !fields.is_empty() {
            tracing::info!(plugin = %ctx.plugin.name, project = ctx.spira_project, incident = id, issue = issue.iid, fields = ?names(&fields), direction = "to-test-management", "updated incident");
            pass.count(|c| c.updated_incidents += 1);
        }
    }
    pass.count(|c| c.conflicts += m.conflicts.len());
    let linked = if link.id == 0 {
        Vec::new()
    } else {
        pass.store().comment_links(link.id)?
    };
    let comments = sync_comments(ctx, &linked, id, issue.iid, false, known).await?;
    pass.count(|c| c.comments_to_gitlab += comments.to_gitlab);
    pass.count(|c| c.comments_to_spira += comments.to_spira);
    if action == Action::Link {
        events.insert(
            0,
            Event {
                action: "link".into(),
                field: None,
                direction: None,
                before: None,
                after: None,
                conflict: false,
                decision: Some("found by marker".into()),
            },
        );
    }
    let (gitlab_now, written) = match &answered {
        Some(answer) => (answer, to_gitlab.as_slice()),
        None => (&issue, &[][..]),
    };
    let ids = (id, issue.iid);
    let (kept, mut kept_events) = kept::settle(
        ctx,
        ids,
        &link.gitlab_kept,
        base.as_ref(),
        &merged,
        gitlab_now,
        written,
    );
    link.gitlab_kept = kept;
    events.append(&mut kept_events);
    link.base = merged;
    link.issue_iid = issue.iid as i64;
    link.issue_url = issue.web_url.clone();
    link.last_note_id = link.last_note_id.max(comments.last_note_id);
    link.last_comment_id = link.last_comment_id.max(comments.last_comment_id);
    link.comments_checked_at = ctx.tm.server_now().or(link.comments_checked_at);
    pass.store().commit_item(&ItemCommit {
        run_id: pass.run_id,
        link,
        comments: comments.links,
        events,
        intent_id: intent,
    })?;
    Ok(())
}

fn names(fields: &[Field]) -> Vec<&'static str> {
    fields.iter().map(|f| f.name()).collect()
}

fn field_events(m: &super::merge::Merge, sv: &Ticket, gv: &Ticket) -> Vec<Event> {
    let mut events = Vec::new();
    for f in &m.to_gitlab {
        events.push(Event {
            action: "update".into(),
            field: Some(f.name().into()),
            direction: Some("to-gitlab"),
            before: Some(gv.get(*f).to_string()),
            after: Some(sv.get(*f).to_string()),
            conflict: false,
            decision: None,
        });
    }
    for f in &m.to_test_management {
        events.push(Event {
            action: "update".into(),
            field: Some(f.name().into()),
            direction: Some("to-test-management"),
            before: Some(sv.get(*f).to_string()),
            after: Some(gv.get(*f).to_string()),
            conflict: false,
            decision: None,
        });
    }
    for c in &m.conflicts {
        events.push(Event {
            action: "conflict".into(),
            field: Some(c.field.name().into()),
            direction: None,
            before: c.base.as_ref().map(ToString::to_string),
            after: None,
            conflict: true,
            decision: Some(format!(
                "{} wins: Spira '{}' vs GitLab '{}'",
                c.winner.shown_as(&Connectors::SPIRA_GITLAB),
                c.test_management,
                c.gitlab
            )),
        });
    }
    events
}

/// Creates the GitLab issue for a new incident (or finds the one a crashed
/// cycle created), then links and syncs the pair.
async fn create_issue(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    incident: &TmItem,
    whole: bool,
) -> Result<(), SyncError> {
    let id = incident_id(ctx, incident)?;
    let ticket = spira_view(incident, None);
    if pass.dry_run {
        pass.plan(PlannedWrite::CreateIssue {
            incident: i64::from(id),
            title: ticket.title,
        });
        return Ok(());
    }
    let footer = footer(ctx, id);
    // What the issue's link back names: how a create whose answer was lost
    // is recognised.
    let marker = (footer.project, footer.item);
    let attempt = IssueAttempt {
        gitlab_now: ctx.tracker.server_now(),
    };
    let intent = pass.store().add_intent(
        &ctx.plugin.name,
        i64::from(ctx.spira_project),
        "issue",
        &id.to_string(),
        &format!("{}/{}", marker.0, marker.1),
        &serde_json::to_string(&attempt).unwrap_or_else(|_| "{}".into()),
    )?;
    // Claimed on the server first, so that two installs never both create.
    counterpart::claim_for_issue(ctx, pass, incident, whole, id).await?;
    // A pending intent from an earlier attempt: the issue may exist
    // already. A fresh intent means no attempt can have created one.
    let earlier = if intent.fresh {
        Vec::new()
    } else {
        let since = attempted_since(ctx, &intent);
        ctx.tracker
            .created_by_me_since(&ctx.tracker_project, since)
            .await?
    };
    for found in earlier {
        if found.marker == Some(marker) {
            tracing::info!(plugin = %ctx.plugin.name, project = ctx.spira_project, incident = id, issue = found.iid, "found the issue an interrupted cycle created");
            let intent = Some(intent.id);
            return link_existing(ctx, pass, incident.clone(), whole, found, intent).await;
        }
    }
    let new: TrackerNew = new_issue(ctx, &pass.store, &ticket, &footer).await?;
    let mut issue = ctx.tracker.create(&ctx.tracker_project, &new).await?;
    tracing::info!(plugin = %ctx.plugin.name, project = ctx.spira_project, incident = id, issue = issue.iid, direction = "to-gitlab", "created issue");
    if ticket.status.and_then(|s| ctx.maps.state_of(s)) == Some("closed") {
        let close = TrackerEdit {
            state: Some(StateChange::Close),
            ..Default::default()
        };
        issue = ctx
            .tracker
            .update(&ctx.tracker_project, issue.iid, &close)
            .await?;
    }
    pass.count(|c| c.created_issues += 1);
    // Read again: the claim holds unless it expired and another writer
    // took the incident over; then that writer's issue is the pair and ours
    // is closed, keeping its footer so that nobody creates from it.
    let incident = match counterpart::recheck_claim(ctx, pass, id, &issue).await? {
        Ok(current) => current,
        Err(named) => return stand_down(ctx, pass, id, &issue, named, intent.id).await,
    };
    let link = new_link(
        ctx,
        id,
        &issue,
        CreatedBy::Side(Side::TestManagement),
        ticket.clone(),
    );
    let sides = Sides {
        incident,
        whole: true,
        issue,
        by_issue: false,
    };
    let created = Action::Created(Side::IssueTracker);
    sync_pair(
        ctx,
        pass,
        link,
        Some(ticket),
        sides,
        Some(intent.id),
        created,
    )
    .await
}

/// What an issue intent records beside its marker: GitLab's clock when
/// the attempt was about to be made.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct IssueAttempt {
    gitlab_now: Option<DateTime<Utc>>,
}

/// The earliest time, by GitLab's clock, at which the attempt an intent
/// records can have created an issue, less the plugin's overlap for skew.
/// An intent without GitLab's clock (older labsync) falls back to this
/// machine's clock, shifted by the clocks' difference as measured now.
fn attempted_since(ctx: &ProjectCtx<'_>, intent: &crate::store::progress::Intent) -> DateTime<Utc> {
    let recorded = serde_json::from_str::<IssueAttempt>(&intent.payload)
        .ok()
        .and_then(|a| a.gitlab_now);
    let at = recorded.unwrap_or_else(|| {
        let skew = ctx
            .tracker
            .server_now()
            .map_or(chrono::Duration::zero(), |server| server - Utc::now());
        intent.created_at + skew
    });
    let margin = chrono::Duration::from_std(ctx.plugin.time_offset)
        .unwrap_or(chrono::Duration::minutes(2))
        .max(chrono::Duration::minutes(1));
    at - margin
}

/// Our issue lost the incident to another writer: closed, with a note
/// saying why, and not linked.
async fn stand_down(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    id: u32,
    issue: &TrackerItem,
    named: Named,
    intent: i64,
) -> Result<(), SyncError> {
    let winner = match named {
        Named::Issue(iid) => format!("#{iid}"),
        Named::Claim { install, .. } => format!("the issue labsync install {install} creates"),
        Named::Nothing => "another issue".into(),
    };
    let close = TrackerEdit {
        state: Some(StateChange::Close),
        ..Default::default()
    };
    ctx.tracker
        .update(&ctx.tracker_project, issue.iid, &close)
        .await?;
    let body = format!(
        "labsync: duplicate of {winner}, created for IN:{id} by another install at the same time; closed."
    );
    ctx.tracker
        .add_comment(&ctx.tracker_project, issue.iid, &body)
        .await?;
    pass.store().drop_intent(intent)?;
    pass.warn(
        &ctx.plugin.name,
        format!(
            "IN:{id} names {winner} but #{} was created for it too: #{} closed",
            issue.iid, issue.iid
        ),
    );
    Ok(())
}

/// Creates the Spira incident for a new issue (or finds the one a crashed
/// cycle created), then links and syncs the pair.
async fn create_incident(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    issue: &TrackerItem,
) -> Result<(), SyncError> {
    let (mut ticket, missing_release) = gitlab_view(ctx, issue, None, &GitLabKept::default());
    if pass.dry_run {
        pass.plan(PlannedWrite::CreateIncident {
            issue: issue.iid,
            title: ticket.title,
        });
        return Ok(());
    }
    if let Some(title) = missing_release {
        ticket.release = Some(release_for(ctx, &pass.store, &title).await?);
    }
    let reference = issue_reference(ctx, issue.iid);
    let intent = pass.store().add_intent(
        &ctx.plugin.name,
        i64::from(ctx.spira_project),
        "incident",
        &issue.id.to_string(),
        &reference,
        "{}",
    )?;
    // As for issues: only an earlier attempt can have created it.
    let existing = if intent.fresh {
        Vec::new()
    } else {
        ctx.tm.find_by_marker(ctx.tm_project(), &reference).await?
    };
    if let Some(found) = existing.into_iter().next() {
        tracing::info!(plugin = %ctx.plugin.name, project = ctx.spira_project, issue = issue.iid, incident = ?found.id, "found the incident an interrupted cycle created");
        let intent = Some(intent.id);
        return link_existing(ctx, pass, found, false, issue.clone(), intent).await;
    }
    let mut new = TmEdit {
        link: Some(TrackerLink {
            marker: reference.clone(),
            url: Some(issue.web_url.clone()),
        }),
        ..incident_edit(&ticket, &Field::ALL)
    };
    if new.title.as_deref().is_none_or(|n| n.trim().is_empty()) {
        new.title = Some(format!("GitLab issue #{}", issue.iid));
    }
    let created = ctx.tm.create(ctx.tm_project(), &new).await?;
    let id = incident_id(ctx, &created)?;
    tracing::info!(plugin = %ctx.plugin.name, project = ctx.spira_project, issue = issue.iid, incident = id, direction = "to-test-management", "created incident");
    pass.count(|c| c.created_incidents += 1);
    // GitLab has no compare-and-set to claim the issue before the create,
    // so the check comes after it: of the incidents naming this issue, every
    // writer keeps the lowest id. Ids grow with time: a writer whose search
    // missed the other's incident created the lower one, and the other's
    // later search sees both.
    let naming = ctx.tm.find_by_marker(ctx.tm_project(), &reference).await?;
    if let Some(first) = naming
        .into_iter()
        .filter(|i| i.id.is_some_and(|other| other < i64::from(id)))
        .min_by_key(|i| i.id)
    {
        ctx.tm.delete(ctx.tm_project(), i64::from(id)).await?;
        pass.count(|c| c.created_incidents -= 1);
        tracing::info!(plugin = %ctx.plugin.name, issue = issue.iid, incident = id, kept = ?first.id, "another writer created an incident for the issue first: ours deleted");
        return link_existing(ctx, pass, first, false, issue.clone(), Some(intent.id)).await;
    }
    // The base is what Spira kept (it may have chosen its default status).
    let kept = spira_view(&created, Some(&ticket));
    let base = Ticket {
        status: kept.status,
        ..ticket
    };
    let link = new_link(
        ctx,
        id,
        issue,
        CreatedBy::Side(Side::IssueTracker),
        base.clone(),
    );
    let sides = Sides {
        incident: created,
        whole: false,
        issue: issue.clone(),
        by_issue: false,
    };
    let action = Action::Created(Side::TestManagement);
    sync_pair(ctx, pass, link, Some(base), sides, Some(intent.id), action).await
}

fn new_link(
    ctx: &ProjectCtx<'_>,
    incident_id: u32,
    issue: &TrackerItem,
    origin: CreatedBy,
    base: Ticket,
) -> Link {
    Link {
        id: 0,
        plugin: ctx.plugin.name.clone(),
        spira_project: i64::from(ctx.spira_project),
        incident_id: i64::from(incident_id),
        gitlab_project_id: ctx.gitlab_project_id as i64,
        issue_id: issue.id as i64,
        issue_iid: issue.iid as i64,
        issue_url: issue.web_url.clone(),
        created_by: origin,
        base,
        last_note_id: 0,
        last_comment_id: 0,
        orphaned: None,
        comments_checked_at: None,
        gitlab_kept: GitLabKept::default(),
    }
}
