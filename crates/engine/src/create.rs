//! Creating the counterpart of a new item, idempotently: an intent row is
//! committed before the remote create, the created item carries a marker
//! (the issue's footer, the incident's link-back property), and a pending
//! intent is settled by looking for its marker before anything is created
//! again. Then the new pair is synced like any other.

use chrono::{DateTime, Utc};

use labsync_model::{CreatedBy, Field, Side, Ticket, TrackerKept};

use crate::storage::Intent;

use super::SyncError;
use super::apply;
use super::connector::{
    StateChange, TmEdit, TmItem, TrackerEdit, TrackerItem, TrackerLink, TrackerNew,
};
use super::context::ProjectCtx;
use super::counterpart::{self, Named};
use super::link::matched;
use super::pair::{Action, Pair, Sides, footer, incident_id, issue_reference, new_link};
use super::pass::Pass;
use super::resolve::{tm_view, tracker_view};
use super::write::{incident_edit, new_issue, release_for};

/// Creates the tracker's issue for a new incident (or finds the one a crashed
/// cycle created), then links and syncs the pair.
pub(super) async fn create_issue(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    incident: &TmItem,
    whole: bool,
) -> Result<(), SyncError> {
    let id = incident_id(ctx, incident)?;
    let ticket = tm_view(ctx.tm, incident, None);
    let footer = footer(ctx, id);
    // What the issue's link back names: how a create whose answer was lost
    // is recognised.
    let marker = (footer.project, footer.item);
    let intent = issue_intent(ctx, pass, id, marker)?;
    // Claimed on the server first, so that two installs never both create.
    counterpart::claim_for_issue(ctx, pass, incident, whole, id).await?;
    if let Some(found) = issue_created_earlier(ctx, &intent, marker).await? {
        tracing::info!(plugin = %ctx.plugin.name, project = ctx.tm_project, incident = id, issue = found.iid, "found the issue an interrupted cycle created");
        let intent = Some(intent.id);
        let pair = matched(ctx, pass, incident.clone(), whole, found, intent)?;
        return apply::pair(ctx, pass, pair).await;
    }
    let new: TrackerNew = new_issue(ctx, &pass.store, &ticket, &footer).await?;
    let issue = create_and_close(ctx, &new, &ticket, id).await?;
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
    let pair = Pair {
        link,
        base: Some(ticket),
        sides,
        intent: Some(intent.id),
        action: Action::Created(Side::IssueTracker),
    };
    apply::pair(ctx, pass, pair).await
}

/// The intent of an issue create, committed before it is sent: what the
/// issue's marker will name, and GitLab's clock now.
fn issue_intent(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    id: u32,
    marker: (i64, i64),
) -> Result<Intent, SyncError> {
    let attempt = IssueAttempt {
        tracker_now: ctx.tracker.server_now(),
    };
    let intent = pass.store().add_intent(
        &ctx.plugin.name,
        i64::from(ctx.tm_project),
        "issue",
        &id.to_string(),
        &format!("{}/{}", marker.0, marker.1),
        &serde_json::to_string(&attempt).unwrap_or_else(|_| "{}".into()),
    )?;
    Ok(intent)
}

/// The issue an earlier attempt of a pending intent created, found by its
/// marker. A fresh intent means no attempt can have created one.
async fn issue_created_earlier(
    ctx: &ProjectCtx<'_>,
    intent: &Intent,
    marker: (i64, i64),
) -> Result<Option<TrackerItem>, SyncError> {
    if intent.fresh {
        return Ok(None);
    }
    let since = attempted_since(ctx, intent);
    let mine = ctx
        .tracker
        .created_by_me_since(&ctx.tracker_project, since)
        .await?;
    Ok(mine.into_iter().find(|found| found.marker == Some(marker)))
}

/// Creates the issue, and closes it at once when the incident's status
/// maps to a closed issue (GitLab creates issues open).
async fn create_and_close(
    ctx: &ProjectCtx<'_>,
    new: &TrackerNew,
    ticket: &Ticket,
    id: u32,
) -> Result<TrackerItem, SyncError> {
    let issue = ctx.tracker.create(&ctx.tracker_project, new).await?;
    tracing::info!(plugin = %ctx.plugin.name, project = ctx.tm_project, incident = id, issue = issue.iid, direction = "to-gitlab", "created issue");
    if ticket.status.and_then(|s| ctx.maps.state_of(s)) != Some("closed") {
        return Ok(issue);
    }
    let close = TrackerEdit {
        state: Some(StateChange::Close),
        ..Default::default()
    };
    let closed = ctx
        .tracker
        .update(&ctx.tracker_project, issue.iid, &close)
        .await?;
    Ok(closed)
}

/// What an issue intent records beside its marker: the tracker's clock when
/// the attempt was about to be made.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct IssueAttempt {
    #[serde(rename = "gitlab_now")]
    tracker_now: Option<DateTime<Utc>>,
}

/// The earliest time, by the tracker's clock, at which the attempt an intent
/// records can have created an issue, less the plugin's overlap for skew.
/// An intent without the tracker's clock (older labsync) falls back to this
/// machine's clock, shifted by the clocks' difference as measured now.
fn attempted_since(ctx: &ProjectCtx<'_>, intent: &Intent) -> DateTime<Utc> {
    let recorded = serde_json::from_str::<IssueAttempt>(&intent.payload)
        .ok()
        .and_then(|a| a.tracker_now);
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

/// Creates the test-management incident for a new issue (or finds the one a crashed
/// cycle created), then links and syncs the pair.
pub(super) async fn create_incident(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    issue: &TrackerItem,
) -> Result<(), SyncError> {
    let (mut ticket, missing_release) = tracker_view(ctx, issue, None, &TrackerKept::default());
    if let Some(title) = missing_release {
        ticket.release = Some(release_for(ctx, &pass.store, &title).await?);
    }
    let reference = issue_reference(ctx, issue.iid);
    let intent = pass.store().add_intent(
        &ctx.plugin.name,
        i64::from(ctx.tm_project),
        "incident",
        &issue.id.to_string(),
        &reference,
        "{}",
    )?;
    if let Some(found) = incident_created_earlier(ctx, &intent, &reference).await? {
        tracing::info!(plugin = %ctx.plugin.name, project = ctx.tm_project, issue = issue.iid, incident = ?found.id, "found the incident an interrupted cycle created");
        let intent = Some(intent.id);
        let pair = matched(ctx, pass, found, false, issue.clone(), intent)?;
        return apply::pair(ctx, pass, pair).await;
    }
    let new = new_incident(&ticket, issue, &reference);
    let created = ctx.tm.create(ctx.tm_project(), &new).await?;
    let id = incident_id(ctx, &created)?;
    tracing::info!(plugin = %ctx.plugin.name, project = ctx.tm_project, issue = issue.iid, incident = id, direction = "to-test-management", "created incident");
    pass.count(|c| c.created_incidents += 1);
    if let Some(first) = created_first(ctx, &reference, id).await? {
        ctx.tm.delete(ctx.tm_project(), i64::from(id)).await?;
        pass.count(|c| c.created_incidents -= 1);
        tracing::info!(plugin = %ctx.plugin.name, issue = issue.iid, incident = id, kept = ?first.id, "another writer created an incident for the issue first: ours deleted");
        let pair = matched(ctx, pass, first, false, issue.clone(), Some(intent.id))?;
        return apply::pair(ctx, pass, pair).await;
    }
    // The base is what Spira kept (it may have chosen its default status).
    let kept = tm_view(ctx.tm, &created, Some(&ticket));
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
    let pair = Pair {
        link,
        base: Some(base),
        sides,
        intent: Some(intent.id),
        action: Action::Created(Side::TestManagement),
    };
    apply::pair(ctx, pass, pair).await
}

/// The incident an earlier attempt of a pending intent created, found by
/// its property. As for issues: only an earlier attempt can have created it.
async fn incident_created_earlier(
    ctx: &ProjectCtx<'_>,
    intent: &Intent,
    reference: &str,
) -> Result<Option<TmItem>, SyncError> {
    if intent.fresh {
        return Ok(None);
    }
    let found = ctx.tm.find_by_marker(ctx.tm_project(), reference).await?;
    Ok(found.into_iter().next())
}

/// A new incident for an issue: every field, the property naming the
/// issue, and a title even when the issue's is blank.
fn new_incident(ticket: &Ticket, issue: &TrackerItem, reference: &str) -> TmEdit {
    let mut new = TmEdit {
        link: Some(TrackerLink {
            marker: reference.to_string(),
            url: Some(issue.web_url.clone()),
        }),
        ..incident_edit(ticket, &Field::ALL)
    };
    if new.title.as_deref().is_none_or(|n| n.trim().is_empty()) {
        new.title = Some(format!("GitLab issue #{}", issue.iid));
    }
    new
}

/// Another writer's incident for the same issue, created before ours (`id`).
/// GitLab has no compare-and-set to claim the issue before the create, so
/// the check comes after it: of the incidents naming this issue, every
/// writer keeps the lowest id. Ids grow with time: a writer whose search
/// missed the other's incident created the lower one, and the other's
/// later search sees both.
async fn created_first(
    ctx: &ProjectCtx<'_>,
    reference: &str,
    id: u32,
) -> Result<Option<TmItem>, SyncError> {
    let naming = ctx.tm.find_by_marker(ctx.tm_project(), reference).await?;
    Ok(naming
        .into_iter()
        .filter(|i| i.id.is_some_and(|other| other < i64::from(id)))
        .min_by_key(|i| i.id))
}
