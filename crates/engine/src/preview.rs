//! What `labsync plan` shows: what linking found, planned and recorded in
//! the pass's plan, with nothing written anywhere. The plan of a pair is
//! the one a sync carries out ([`super::plan::pair()`]); a create is shown as
//! itself (the pair it makes is planned once it exists, next cycle).

use crate::storage::StoreError;
use labsync_model::TrackerKept;

use super::SyncError;
use super::comments;
use super::context::ProjectCtx;
use super::link::{Failed, Finish, Linked};
use super::pair::{Pair, incident_id, known, planned};
use super::pass::Pass;
use super::plan;
use super::resolve::{tm_view, tracker_view};

/// A plan: what linking found is recorded as the writes it would make;
/// nothing is written, and a failed item is not queued.
pub(super) struct Preview;

impl Finish for Preview {
    async fn linked(
        &self,
        ctx: &ProjectCtx<'_>,
        pass: &Pass<'_>,
        found: Linked,
    ) -> Result<(), SyncError> {
        linked(ctx, pass, found).await
    }

    fn queue(&self, _: &Pass<'_>, _: &Failed<'_>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Records what carrying out `linked` would write.
async fn linked(ctx: &ProjectCtx<'_>, pass: &Pass<'_>, linked: Linked) -> Result<(), SyncError> {
    match linked {
        Linked::Nothing | Linked::Unchanged { .. } => Ok(()),
        Linked::Orphan { .. } => {
            pass.count(|c| c.orphaned += 1);
            Ok(())
        }
        Linked::Pair {
            pair,
            claim: _claim,
            ..
        } => pair_writes(ctx, pass, *pair).await,
        Linked::NewIncident { incident, .. } => {
            let id = incident_id(ctx, &incident)?;
            let title = tm_view(ctx.tm, &incident, None).title;
            pass.plan(plan::new_incident(i64::from(id), title));
            Ok(())
        }
        Linked::NewIssue(issue) => {
            let (ticket, missing_release) =
                tracker_view(ctx, &issue, None, &TrackerKept::default());
            for write in plan::new_issue(issue.iid, ticket.title, missing_release) {
                pass.plan(write);
            }
            Ok(())
        }
    }
}

/// Records a pair's plan and its comments' copies.
async fn pair_writes(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    mut pair: Pair,
) -> Result<(), SyncError> {
    let (resolved, plan) = planned(ctx, &mut pair)?;
    for write in plan.writes() {
        pass.plan(write);
    }
    let id = resolved.id;
    let linked = pass.store().comment_links(pair.link.id)?;
    let iid = pair.sides.issue.iid;
    let read = comments::read(ctx, &linked, id, iid, known(pass, &pair)).await?;
    for write in read.plan(ctx, &linked, id, iid).writes() {
        pass.plan(write);
    }
    Ok(())
}
