//! One incident/issue pair as linked (`Pair`), resolved into neutral
//! records and planned (a pure function: [`super::plan::pair()`]); the plan
//! is carried out by [`super::apply`], or recorded by [`super::preview`].

use crate::storage::{Event, Link};
use labsync_model::{CreatedBy, Field, Side, Ticket, TrackerKept};

use super::SyncError;
use super::comments::Known;
use super::connector::issue_tracker::TmLink;
use super::connector::{TmItem, TrackerItem};
use super::context::ProjectCtx;
use super::kept;
use super::merge::SideView;
use super::pass::Pass;
use super::plan::{self, PairPlan, PairRead};
use super::resolve::{tm_view, tracker_view};

/// The link back the issue carries to its incident (GitLab's footer).
pub(super) fn footer(ctx: &ProjectCtx<'_>, incident_id: u32) -> TmLink {
    let item = i64::from(incident_id);
    TmLink {
        project: ctx.tm_project(),
        item,
        url: ctx.tm.web_url(ctx.tm_project(), item),
    }
}

/// The marker the incident keeps of its issue (Spira's "GitLab Issue" property).
pub fn issue_reference(ctx: &ProjectCtx<'_>, iid: u64) -> String {
    ctx.tracker.reference(&ctx.tracker_path, iid)
}

/// Whether the incident's marker is `reference`.
pub(super) fn marks(ctx: &ProjectCtx<'_>, incident: &TmItem, reference: &str) -> bool {
    ctx.tm.marker(ctx.tm_project(), incident).as_deref() == Some(reference)
}

pub(super) fn incident_id(ctx: &ProjectCtx<'_>, incident: &TmItem) -> Result<u32, SyncError> {
    let bad = || SyncError::BadAnswer {
        side: ctx.tm.name(),
        item: format!("incident '{}'", incident.title),
        field: "IncidentId",
    };
    let id = incident.id.ok_or_else(bad)?;
    u32::try_from(id).map_err(|_| bad())
}

/// The two sides of a pair as read this cycle.
pub(super) struct Sides {
    pub incident: TmItem,
    /// The incident was read by id just now, so a write can start from it.
    pub whole: bool,
    pub issue: TrackerItem,
    /// Synced because the issue changed (the incident was not listed).
    pub by_issue: bool,
}

/// Why a pair is synced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Action {
    Update,
    Link,
    /// The item on this side was just created.
    Created(Side),
}

/// One pair as linked: what is known of it before it is resolved.
pub(super) struct Pair {
    pub link: Link,
    /// The record after the last sync; `None` for a pair just found by marker.
    pub base: Option<Ticket>,
    pub sides: Sides,
    /// The intent of the create that made this pair, settled by its commit.
    pub intent: Option<i64>,
    pub action: Action,
}

/// Both sides of a pair as neutral records.
pub(super) struct Resolved {
    pub id: u32,
    pub sv: Ticket,
    pub gv: Ticket,
    /// The title of a milestone no release is mapped to yet.
    pub missing_release: Option<String>,
    /// What the tracker kept of an issue just created (audit rows).
    pub kept_events: Vec<Event>,
}

/// Resolves a pair and plans its writes.
pub(super) fn planned(
    ctx: &ProjectCtx<'_>,
    pair: &mut Pair,
) -> Result<(Resolved, PairPlan), SyncError> {
    let resolved = resolve(ctx, pair)?;
    let plan = plan::pair(&read(ctx, pair, &resolved));
    Ok((resolved, plan))
}

/// What is known of the pair's comments before any is read.
pub(super) fn known(pass: &Pass<'_>, pair: &Pair) -> Known {
    Known {
        created: match pair.action {
            Action::Created(side) => Some(side),
            _ => None,
        },
        issue_notes: pair.sides.issue.comment_count,
        new_note: pass.has_new_note(pair.link.tm_item),
        tm_comments: !pair.sides.by_issue,
    }
}

/// Both sides as neutral records. An issue just created is read like any
/// write's answer: what the tracker kept of it is recorded first.
fn resolve(ctx: &ProjectCtx<'_>, pair: &mut Pair) -> Result<Resolved, SyncError> {
    let Sides {
        incident, issue, ..
    } = &pair.sides;
    let id = incident_id(ctx, incident)?;
    let base = pair.base.as_ref();
    let sv = tm_view(ctx.tm, incident, base);
    let mut kept_events = Vec::new();
    if pair.action == Action::Created(Side::IssueTracker)
        && let Some(b) = base
    {
        let before = TrackerKept::default();
        let (kept, events) =
            kept::settle(ctx, (id, issue.iid), &before, None, b, issue, &Field::ALL);
        pair.link.tracker_kept = kept;
        kept_events = events;
    }
    let (gv, missing_release) = tracker_view(ctx, issue, base, &pair.link.tracker_kept);
    Ok(Resolved {
        id,
        sv,
        gv,
        missing_release,
        kept_events,
    })
}

/// What the plan of a pair is made from.
pub(super) fn read<'a>(ctx: &ProjectCtx<'_>, pair: &'a Pair, r: &'a Resolved) -> PairRead<'a> {
    let Sides {
        incident, issue, ..
    } = &pair.sides;
    let changed_at = incident
        .updated_at
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    PairRead {
        incident: i64::from(r.id),
        issue: issue.iid,
        base: pair.base.as_ref(),
        test_management: SideView {
            ticket: &r.sv,
            changed_at,
        },
        issue_tracker: SideView {
            ticket: &r.gv,
            changed_at: issue.updated_at,
        },
        missing_release: r.missing_release.as_deref(),
        has_footer: issue.marker == Some((ctx.tm_project(), i64::from(r.id))),
        has_property: marks(ctx, incident, &issue_reference(ctx, issue.iid)),
        policy: ctx.plugin.conflict,
        direction: ctx.plugin.direction,
    }
}

pub(super) fn new_link(
    ctx: &ProjectCtx<'_>,
    incident_id: u32,
    issue: &TrackerItem,
    origin: CreatedBy,
    base: Ticket,
) -> Link {
    Link {
        id: 0,
        plugin: ctx.plugin.name.clone(),
        tm_project: i64::from(ctx.tm_project),
        tm_item: i64::from(incident_id),
        tracker_project_id: ctx.tracker_project_id as i64,
        tracker_item_id: issue.id as i64,
        tracker_iid: issue.iid as i64,
        tracker_url: issue.web_url.clone(),
        created_by: origin,
        base,
        last_tracker_comment: 0,
        last_tm_comment: 0,
        orphaned: None,
        comments_checked_at: None,
        tracker_kept: TrackerKept::default(),
    }
}
