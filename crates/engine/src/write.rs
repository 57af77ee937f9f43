//! Turning merged fields into writes on each side, and the counterparts a
//! write needs (a milestone for a release, a release for a milestone, a
//! priority label), created once and recorded as `auto` mappings.

use crate::storage::Storage;
use crate::storage::{Kind, MappingRow, Source};
use labsync_model::text;
use labsync_model::{Field, Ticket};

use std::sync::Mutex;

use super::connector::issue_tracker::TmLink;
use super::connector::{
    StateChange, TmEdit, TrackerEdit, TrackerItem, TrackerLabel, TrackerNew, TrackerState,
};
use super::context::ProjectCtx;
use super::resolve::tracker_username;
use super::{SyncError, lock};

/// The milestone id for a test-management release, creating the milestone (and the
/// mapping) when the release has none yet.
pub async fn milestone_for(
    ctx: &ProjectCtx<'_>,
    store: &Mutex<&mut dyn Storage>,
    release: i64,
) -> Result<Option<u64>, SyncError> {
    let known = |title: &str| {
        lock(&ctx.milestones)
            .iter()
            .find(|m| m.title.eq_ignore_ascii_case(title) || m.id.to_string() == title)
            .map(|m| m.id)
    };
    if let Some(id) = ctx.milestone_of(release).and_then(|t| known(&t)) {
        return Ok(Some(id));
    }
    // Items in flight together wait here: the first creates, the rest find it.
    let _one = ctx.creating.lock().await;
    let title = match ctx.milestone_of(release) {
        Some(t) => t,
        None => {
            let name = lock(&ctx.releases)
                .iter()
                .find(|r| r.id == release)
                .map(|r| r.name.clone());
            let Some(title) = name else {
                return Ok(None);
            };
            record_release(ctx, store, release, &title);
            title
        }
    };
    if let Some(id) = known(&title) {
        return Ok(Some(id));
    }
    let created = ctx
        .tracker
        .create_milestone(&ctx.tracker_project, &title)
        .await?;
    tracing::info!(plugin = %ctx.plugin.name, milestone = %title, "created GitLab milestone for a Spira release");
    let id = created.id;
    lock(&ctx.milestones).push(created);
    Ok(Some(id))
}

/// The release id for a tracker milestone, creating the release (and the
/// mapping) when none is mapped yet.
pub async fn release_for(
    ctx: &ProjectCtx<'_>,
    store: &Mutex<&mut dyn Storage>,
    milestone: &str,
) -> Result<i64, SyncError> {
    if let Some(r) = ctx.release_of(milestone) {
        return Ok(r);
    }
    let _one = ctx.creating.lock().await;
    if let Some(r) = ctx.release_of(milestone) {
        return Ok(r);
    }
    let existing = lock(&ctx.releases)
        .iter()
        .find(|r| {
            r.name.eq_ignore_ascii_case(milestone) || r.version.eq_ignore_ascii_case(milestone)
        })
        .map(|r| r.id);
    let id = match existing {
        Some(id) => id,
        None => {
            let created = ctx.tm.create_release(ctx.tm_project(), milestone).await?;
            tracing::info!(plugin = %ctx.plugin.name, release = %milestone, "created Spira release for a GitLab milestone");
            let id = created.id;
            lock(&ctx.releases).push(created);
            id
        }
    };
    record_release(ctx, store, id, milestone);
    Ok(id)
}

fn record_release(
    ctx: &ProjectCtx<'_>,
    store: &Mutex<&mut dyn Storage>,
    release: i64,
    milestone: &str,
) {
    ctx.add_release(release, milestone);
    let row = MappingRow {
        plugin: ctx.plugin.name.clone(),
        tm_project: i64::from(ctx.tm_project),
        tm_value: release.to_string(),
        tracker_value: milestone.to_string(),
        primary: false,
        source: Source::Auto,
    };
    // A stale auto row (its release was deleted) holding the milestone gives way.
    let recorded = match ctx.maps.stale_auto_release(milestone) {
        Some(stale) => {
            tracing::warn!(plugin = %ctx.plugin.name, project = ctx.tm_project, milestone, old_release = %stale.tm_value, release, "replaced the auto release mapping of a deleted release");
            lock(store).replace_auto_mapping(Kind::Release, &stale.tm_value, &row)
        }
        None => lock(store).add_mapping(Kind::Release, &row),
    };
    if let Err(e) = recorded {
        tracing::debug!(cause = %e, "release mapping already recorded");
    }
}

/// Creates the priority label once, so it has a colour of its own.
async fn ensure_label(ctx: &ProjectCtx<'_>, label: &str) -> Result<(), SyncError> {
    if lock(&ctx.labels).contains(label) {
        return Ok(());
    }
    let _one = ctx.creating.lock().await;
    if lock(&ctx.labels).contains(label) {
        return Ok(());
    }
    let new = TrackerLabel {
        name: label.to_string(),
        color: "#428BCA".into(),
        description: Some("Priority synced from Spira by labsync".into()),
    };
    ctx.tracker.create_label(&ctx.tracker_project, &new).await?;
    lock(&ctx.labels).insert(label.to_string());
    Ok(())
}

/// The tracker edit that carries `fields` of `merged` onto `issue`.
pub async fn issue_edit(
    ctx: &ProjectCtx<'_>,
    store: &Mutex<&mut dyn Storage>,
    issue: &TrackerItem,
    merged: &Ticket,
    fields: &[Field],
    footer: &TmLink,
) -> Result<TrackerEdit, SyncError> {
    let mut edit = TrackerEdit::default();
    for field in fields {
        match field {
            Field::Title => edit.title = Some(merged.title.clone()),
            Field::Description => {
                edit.body = Some(merged.description.clone());
                edit.link = Some(footer.clone());
            }
            Field::Status => {
                let target = merged.status.and_then(|s| ctx.maps.state_of(s));
                let open = issue.state == TrackerState::Open;
                edit.state = match (target, open) {
                    (Some("closed"), true) => Some(StateChange::Close),
                    (Some("opened"), false) => Some(StateChange::Reopen),
                    _ => None,
                };
            }
            Field::Priority => {
                let managed = ctx.maps.priority_labels();
                let wanted = merged
                    .priority
                    .and_then(|p| ctx.maps.label_of(p))
                    .map(String::from);
                // Scoped labels are exclusive only on paid tiers: remove the old one ourselves.
                let stale: Vec<String> = issue
                    .labels
                    .iter()
                    .filter(|l| {
                        managed.contains(l.as_str()) && Some(l.as_str()) != wanted.as_deref()
                    })
                    .cloned()
                    .collect();
                if let Some(label) = &wanted {
                    ensure_label(ctx, label).await?;
                    edit.add_labels = vec![label.clone()];
                }
                edit.remove_labels = stale;
            }
            Field::Assignee => {
                let ids = match merged.assignee.and_then(|a| tracker_username(ctx, a)) {
                    Some(name) => ctx.tracker_user_id(&name).await?.into_iter().collect(),
                    None => {
                        if let Some(a) = merged.assignee {
                            let who = ctx.tm_login(a).unwrap_or("?").to_string();
                            ctx.warn_unmapped(&who, "Spira");
                        }
                        Vec::new()
                    }
                };
                edit.assignees = Some(ids);
            }
            Field::Release => {
                let id = match merged.release {
                    Some(r) => milestone_for(ctx, store, r).await?,
                    None => None,
                };
                edit.milestone = Some(id);
            }
        }
    }
    Ok(edit)
}

/// A new issue for an incident: every field, the footer with its marker.
pub async fn new_issue(
    ctx: &ProjectCtx<'_>,
    store: &Mutex<&mut dyn Storage>,
    ticket: &Ticket,
    footer: &TmLink,
) -> Result<TrackerNew, SyncError> {
    let mut issue = TrackerNew {
        title: ticket.title.clone(),
        body: ticket.description.clone(),
        link: footer.clone(),
        labels: Vec::new(),
        assignee: None,
        milestone: None,
    };
    if let Some(label) = ticket
        .priority
        .and_then(|p| ctx.maps.label_of(p))
        .map(String::from)
    {
        ensure_label(ctx, &label).await?;
        issue.labels = vec![label];
    }
    if let Some(name) = ticket.assignee.and_then(|a| tracker_username(ctx, a)) {
        issue.assignee = ctx.tracker_user_id(&name).await?;
    }
    if let Some(r) = ticket.release {
        issue.milestone = milestone_for(ctx, store, r).await?;
    }
    Ok(issue)
}

/// The write that carries `fields` of `merged` to the incident (used for
/// updates and creates).
pub fn incident_edit(merged: &Ticket, fields: &[Field]) -> TmEdit {
    let mut edit = TmEdit::default();
    for field in fields {
        match field {
            Field::Title => edit.title = Some(merged.title.clone()),
            Field::Description => {
                edit.description = Some(text::markdown_to_html(&merged.description))
            }
            Field::Status => edit.status = merged.status,
            Field::Priority => edit.priority = Some(merged.priority),
            Field::Assignee => edit.owner = Some(merged.assignee),
            Field::Release => edit.release = Some(merged.release),
        }
    }
    edit
}
