//! Carrying out what linking found: the link's changes (orphaned,
//! relinked, checked), the creates ([`super::create`]), and a pair's plan:
//! a release it needs first, the issue's edit (with its footer), the
//! incident's (with its property), the comments, then the commit.

use chrono::Utc;

use crate::storage::StoreError;
use crate::storage::{Event, ItemCommit};
use labsync_model::{Connectors, Field, Ticket};

use super::SyncError;
use super::comments;
use super::connector::{TmEdit, TrackerItem, TrackerLink};
use super::context::ProjectCtx;
use super::create;
use super::kept;
use super::link::{Failed, Finish, Linked};
use super::merge::Merge;
use super::pair::{Action, Pair, footer, issue_reference, known, planned, read};
use super::pass::Pass;
use super::plan::{self, PairPlan};
use super::resolve::tm_view;
use super::write::{incident_edit, issue_edit, release_for};

/// A sync: what linking found is carried out, and a failed item queued.
pub(super) struct Apply;

impl Finish for Apply {
    async fn linked(
        &self,
        ctx: &ProjectCtx<'_>,
        pass: &Pass<'_>,
        found: Linked,
    ) -> Result<(), SyncError> {
        linked(ctx, pass, found).await
    }

    fn queue(&self, pass: &Pass<'_>, failed: &Failed<'_>) -> Result<(), StoreError> {
        let why = failed.error.to_string();
        let (side, item) = (failed.side, failed.item);
        pass.store()
            .record_error(failed.plugin, failed.project, side, item, &why, Utc::now())
            .map(|_| ())
    }
}

/// Carries out what linking an item found.
async fn linked(ctx: &ProjectCtx<'_>, pass: &Pass<'_>, linked: Linked) -> Result<(), SyncError> {
    match linked {
        Linked::Nothing => Ok(()),
        Linked::Unchanged {
            link,
            side,
            item,
            checked_at,
        } => {
            let mut store = pass.store();
            if let Some(now) = checked_at {
                store.mark_comments_checked(link, now)?;
            }
            // An earlier failure of the item has nothing left to retry.
            let project = i64::from(ctx.tm_project);
            store.clear_error(&ctx.plugin.name, project, side, item)?;
            Ok(())
        }
        Linked::Orphan { link, reason } => {
            pass.store().mark_orphaned(link, &reason)?;
            pass.count(|c| c.orphaned += 1);
            Ok(())
        }
        Linked::Pair {
            pair: found,
            relinked,
            claim: _claim,
        } => {
            if relinked {
                let (link, issue) = (&found.link, &found.sides.issue);
                pass.store().relink_tracker_item(
                    link.id,
                    issue.id as i64,
                    issue.iid as i64,
                    &issue.web_url,
                )?;
            }
            pair(ctx, pass, *found).await
        }
        Linked::NewIncident { incident, whole } => {
            create::create_issue(ctx, pass, &incident, whole).await
        }
        Linked::NewIssue(issue) => create::create_incident(ctx, pass, &issue).await,
    }
}

/// Resolves and plans `pair`, carries the plan out, and commits the outcome.
pub(super) async fn pair(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    mut pair: Pair,
) -> Result<(), SyncError> {
    let (mut resolved, mut plan) = planned(ctx, &mut pair)?;
    if let Some(title) = plan.create_release.take() {
        // The fields depend on it (the milestone resolves to the release):
        // made first, then the pair is planned again with it.
        resolved.gv.release = Some(release_for(ctx, &pass.store, &title).await?);
        resolved.missing_release = None;
        plan = plan::pair(&read(ctx, &pair, &resolved));
    }
    let mut events = field_events(&plan.merge, &resolved.sv, &resolved.gv);
    events.append(&mut resolved.kept_events);
    let id = resolved.id;
    let answered = edit_issue(ctx, pass, &pair, &plan, id).await?;
    let merged = edit_incident(ctx, pass, &pair, &plan, id, &mut events).await?;
    pass.count(|c| c.conflicts += plan.merge.conflicts.len());
    let linked = if pair.link.id == 0 {
        Vec::new()
    } else {
        pass.store().comment_links(pair.link.id)?
    };
    let iid = pair.sides.issue.iid;
    let read = comments::read(ctx, &linked, id, iid, known(pass, &pair)).await?;
    let copied = comments::apply(ctx, &read.plan(ctx, &linked, id, iid), id).await?;
    pass.count(|c| c.comments_to_tracker += copied.to_tracker);
    pass.count(|c| c.comments_to_tm += copied.to_tm);
    let written = Written {
        merged,
        answered,
        to_tracker: plan.merge.to_tracker,
        comments: copied,
        events,
    };
    commit(ctx, pass, pair, id, written)
}

/// The issue's edit: the fields to the issue tracker, and the footer when it is
/// missing. Returns the tracker's answer, when anything was sent.
async fn edit_issue(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    pair: &Pair,
    plan: &PairPlan,
    id: u32,
) -> Result<Option<TrackerItem>, SyncError> {
    let to_tracker = &plan.merge.to_tracker;
    if to_tracker.is_empty() && !plan.write_footer {
        return Ok(None);
    }
    let issue = &pair.sides.issue;
    let footer = footer(ctx, id);
    let merged = &plan.merge.merged;
    let mut edit = issue_edit(ctx, &pass.store, issue, merged, to_tracker, &footer).await?;
    // When only the footer is missing, the text people wrote is kept
    // exactly as written, with the footer under it.
    if plan.write_footer && edit.body.is_none() {
        edit.body = Some(issue.body.clone());
        edit.link = Some(footer);
    }
    if edit.is_empty() {
        return Ok(None);
    }
    let answer = ctx
        .tracker
        .update(&ctx.tracker_project, issue.iid, &edit)
        .await?;
    // Writing only the footer (the link back to a new incident, or one
    // someone deleted) is not an update of the issue's fields: the log
    // says so, and the table does not count it.
    if to_tracker.is_empty() {
        tracing::info!(plugin = %ctx.plugin.name, project = ctx.tm_project, incident = id, issue = issue.iid, direction = "to-gitlab", "wrote the link footer on the issue");
    } else {
        tracing::info!(plugin = %ctx.plugin.name, project = ctx.tm_project, incident = id, issue = issue.iid, fields = ?names(to_tracker), direction = "to-gitlab", "updated issue");
        pass.count(|c| c.updated_issues += 1);
    }
    Ok(Some(answer))
}

/// The incident's edit: the fields to the test-management side, always with the property
/// naming the issue. Returns the merged record as the test-management side kept it (it may
/// refuse a status change).
async fn edit_incident(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    pair: &Pair,
    plan: &PairPlan,
    id: u32,
    events: &mut Vec<Event>,
) -> Result<Ticket, SyncError> {
    let merged = plan.merge.merged.clone();
    let fields = &plan.merge.to_test_management;
    if fields.is_empty() && !plan.write_property {
        return Ok(merged);
    }
    let (incident, issue) = (&pair.sides.incident, &pair.sides.issue);
    let edit = TmEdit {
        link: Some(TrackerLink {
            marker: issue_reference(ctx, issue.iid),
            url: Some(issue.web_url.clone()),
        }),
        ..incident_edit(&merged, fields)
    };
    // Read back only to learn whether Spira kept a status change.
    let read_back = fields.contains(&Field::Status);
    let current = pair.sides.whole.then(|| incident.clone());
    let saved = ctx
        .tm
        .update(ctx.tm_project(), i64::from(id), current, &edit, read_back)
        .await?;
    let kept = tm_view(ctx.tm, &saved, Some(&merged));
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
    if !fields.is_empty() {
        tracing::info!(plugin = %ctx.plugin.name, project = ctx.tm_project, incident = id, issue = issue.iid, fields = ?names(fields), direction = "to-test-management", "updated incident");
        pass.count(|c| c.updated_incidents += 1);
    }
    Ok(Ticket {
        status: kept.status,
        ..merged
    })
}

/// What the writes of a pair came to, for its commit.
struct Written {
    /// The new base, as both sides now hold it.
    merged: Ticket,
    /// The tracker's answer to the issue's edit, if one was sent.
    answered: Option<TrackerItem>,
    to_tracker: Vec<Field>,
    comments: comments::CommentSync,
    events: Vec<Event>,
}

/// Commits the pair: its link with the new base, its comment links and
/// audit rows, and its intent settled, in one transaction.
fn commit(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    pair: Pair,
    id: u32,
    written: Written,
) -> Result<(), SyncError> {
    let Pair {
        mut link,
        base,
        sides,
        intent,
        action,
    } = pair;
    let Written {
        merged,
        answered,
        to_tracker,
        comments,
        mut events,
    } = written;
    if action == Action::Link {
        events.insert(0, found_by_marker());
    }
    let issue = sides.issue;
    let (tracker_now, written) = match &answered {
        Some(answer) => (answer, to_tracker.as_slice()),
        None => (&issue, &[][..]),
    };
    let ids = (id, issue.iid);
    let before = &link.tracker_kept;
    let (kept, mut kept_events) = kept::settle(
        ctx,
        ids,
        before,
        base.as_ref(),
        &merged,
        tracker_now,
        written,
    );
    link.tracker_kept = kept;
    events.append(&mut kept_events);
    link.base = merged;
    link.tracker_iid = issue.iid as i64;
    link.tracker_url = issue.web_url.clone();
    link.last_tracker_comment = link.last_tracker_comment.max(comments.last_note_id);
    link.last_tm_comment = link.last_tm_comment.max(comments.last_comment_id);
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

/// The audit row of a pair linked by marker.
fn found_by_marker() -> Event {
    Event {
        action: "link".into(),
        field: None,
        direction: None,
        before: None,
        after: None,
        conflict: false,
        decision: Some("found by marker".into()),
    }
}

fn names(fields: &[Field]) -> Vec<&'static str> {
    fields.iter().map(|f| f.name()).collect()
}

fn field_events(m: &Merge, sv: &Ticket, gv: &Ticket) -> Vec<Event> {
    let mut events = Vec::new();
    for f in &m.to_tracker {
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
                c.issue_tracker
            )),
        });
    }
    events
}
