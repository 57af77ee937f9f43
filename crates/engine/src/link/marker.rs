//! Linking by marker: an item without a link whose marker names a
//! counterpart (an incident's link-back property, an issue's footer),
//! whichever database wrote it, is linked to it, never the origin of a new
//! one; when the named item is gone or linked elsewhere, it is reported and
//! left alone.

use labsync_model::{CreatedBy, Ticket};

use crate::SyncError;
use crate::connector::{TmItem, TrackerItem};
use crate::context::ProjectCtx;
use crate::counterpart::{self, Named, named_issue};
use crate::pair::{Action, Pair, Sides, incident_id, new_link};
use crate::pass::{Claim, Pass};
use crate::storage::Link;

use super::Linked;

/// An unlinked incident that names issue `iid`: linked to it, or, when
/// the issue is gone or linked to another incident, reported and left.
pub(super) async fn link_named_issue(
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
    let taken = pass.store().link_by_tracker_item(
        &ctx.plugin.name,
        ctx.tracker_project_id as i64,
        issue.id as i64,
    )?;
    if let Some(other) = taken {
        pass.warn(
            &ctx.plugin.name,
            format!(
                "IN:{id} names #{iid} but #{iid} is linked to IN:{}: left as it is",
                other.tm_item
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
pub(super) async fn link_footer_incident(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    issue: &TrackerItem,
    incident_id: i64,
) -> Result<Linked, SyncError> {
    let (plugin, iid) = (&ctx.plugin.name, issue.iid);
    // Two issues may carry one footer (copied by hand): one at a time.
    let claim = pass.claim(Claim::Incident(incident_id)).await;
    let project = i64::from(ctx.tm_project);
    if let Some(link) = pass.store().link_by_tm_item(plugin, project, incident_id)? {
        pass.warn(plugin, format!("#{iid} carries the footer of IN:{incident_id}, which is linked to #{}: no incident is created for #{iid} (remove the footer to have one created)", link.tracker_iid));
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

/// A pair found on both sides without a link (by marker): linked, with
/// no base (differences go by the conflict policy).
pub(crate) fn matched(
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
pub(super) fn relink(
    pass: &Pass<'_>,
    mut link: Link,
    incident: TmItem,
    whole: bool,
    issue: TrackerItem,
) -> Linked {
    link.tracker_item_id = issue.id as i64;
    link.tracker_iid = issue.iid as i64;
    link.tracker_url = issue.web_url.clone();
    link.created_by = CreatedBy::Matched;
    link.base = Ticket::default();
    link.last_tracker_comment = 0;
    link.orphaned = None;
    Linked::Pair {
        pair: Box::new(found_pair(pass, link, incident, whole, issue, None)),
        relinked: true,
        claim: None,
    }
}
