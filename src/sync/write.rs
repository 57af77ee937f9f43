//! Turning merged fields into writes on each side, and the counterparts a
//! write needs (a milestone for a release, a release for a milestone, a
//! priority label), created once and recorded as `auto` mappings.

use crate::gitlab::{Issue, IssueEdit, NewIssue, NewLabel, NewMilestone, StateEvent};
use crate::model::{Field, Ticket};
use crate::spira::{Incident, Release};
use crate::store::Store;
use crate::store::mappings::{Kind, MappingRow, Source};
use crate::text;

use std::sync::Mutex;

use super::context::ProjectCtx;
use super::resolve::gitlab_username;
use super::{SyncError, lock};

/// The milestone id for a Spira release, creating the milestone (and the
/// mapping) when the release has none yet.
pub async fn milestone_for(
    ctx: &ProjectCtx<'_>,
    store: &Mutex<&mut Store>,
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
                .find(|r| r.release_id.map(i64::from) == Some(release))
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
        .gitlab
        .create_milestone(
            &ctx.gitlab_ref,
            &NewMilestone {
                title: title.clone(),
                ..NewMilestone::default()
            },
        )
        .await?;
    tracing::info!(plugin = %ctx.plugin.name, milestone = %title, "created GitLab milestone for a Spira release");
    let id = created.id;
    lock(&ctx.milestones).push(created);
    Ok(Some(id))
}

/// The release id for a GitLab milestone, creating the release (and the
/// mapping) when none is mapped yet.
pub async fn release_for(
    ctx: &ProjectCtx<'_>,
    store: &Mutex<&mut Store>,
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
            r.name.eq_ignore_ascii_case(milestone)
                || r.version_number.eq_ignore_ascii_case(milestone)
        })
        .and_then(|r| r.release_id);
    let id = match existing {
        Some(id) => id,
        None => {
            let now = chrono::Utc::now();
            let new = Release {
                name: milestone.to_string(),
                // Spira's version numbers are short; the name carries the title.
                version_number: milestone.chars().take(10).collect(),
                active: true,
                // Spira refuses a release without both (reference §13 row 1).
                release_type_id: Some(ctx.plugin.spira.release_type_id),
                release_status_id: Some(ctx.plugin.spira.release_status_id),
                start_date: Some(now),
                end_date: Some(now + chrono::Duration::days(30)),
                ..Release::default()
            };
            let created = ctx.spira.create_release(ctx.spira_project, &new).await?;
            tracing::info!(plugin = %ctx.plugin.name, release = %milestone, "created Spira release for a GitLab milestone");
            let id = created.release_id.ok_or_else(|| SyncError::BadAnswer {
                side: "Spira",
                item: format!("the release it created for milestone '{milestone}'"),
                field: "ReleaseId",
            })?;
            lock(&ctx.releases).push(created);
            id
        }
    };
    record_release(ctx, store, i64::from(id), milestone);
    Ok(i64::from(id))
}

fn record_release(ctx: &ProjectCtx<'_>, store: &Mutex<&mut Store>, release: i64, milestone: &str) {
    ctx.add_release(release, milestone);
    let row = MappingRow {
        plugin: ctx.plugin.name.clone(),
        spira_project: i64::from(ctx.spira_project),
        spira: release.to_string(),
        gitlab: milestone.to_string(),
        primary: false,
        source: Source::Auto,
    };
    // A stale auto row (its release was deleted) holding the milestone gives way.
    let recorded = match ctx.maps.stale_auto_release(milestone) {
        Some(stale) => {
            tracing::warn!(plugin = %ctx.plugin.name, project = ctx.spira_project, milestone, old_release = %stale.spira, release, "replaced the auto release mapping of a deleted release");
            lock(store).replace_auto_mapping(Kind::Release, &stale.spira, &row)
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
    let new = NewLabel {
        name: label.to_string(),
        color: "#428BCA".into(),
        description: Some("Priority synced from Spira by labsync".into()),
    };
    ctx.gitlab.create_label(&ctx.gitlab_ref, &new).await?;
    lock(&ctx.labels).insert(label.to_string());
    Ok(())
}

/// The GitLab edit that carries `fields` of `merged` onto `issue`.
pub async fn issue_edit(
    ctx: &ProjectCtx<'_>,
    store: &Mutex<&mut Store>,
    issue: &Issue,
    merged: &Ticket,
    fields: &[Field],
    footer: &text::Footer,
) -> Result<IssueEdit, SyncError> {
    let mut edit = IssueEdit::default();
    for field in fields {
        match field {
            Field::Title => edit.title = Some(text::gitlab_title(&merged.title)),
            Field::Description => {
                edit.description = Some(text::gitlab_description(&merged.description, footer))
            }
            Field::Status => {
                let target = merged.status.and_then(|s| ctx.maps.state_of(s));

                edit.state_event = match (target, issue.is_open()) {
                    (Some("closed"), true) => Some(StateEvent::Close),
                    (Some("opened"), false) => Some(StateEvent::Reopen),
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
                    edit.add_labels = Some(vec![label.clone()]);
                }
                if !stale.is_empty() {
                    edit.remove_labels = Some(stale);
                }
            }
            Field::Assignee => {
                let ids = match merged.assignee.and_then(|a| gitlab_username(ctx, a)) {
                    Some(name) => ctx.gitlab_user_id(&name).await?.into_iter().collect(),
                    None => {
                        if let Some(a) = merged.assignee {
                            let who = ctx
                                .spira_login(u32::try_from(a).unwrap_or(0))
                                .unwrap_or("?")
                                .to_string();
                            ctx.warn_unmapped(&who, "Spira");
                        }
                        Vec::new()
                    }
                };
                edit.assignee_ids = Some(ids);
            }
            Field::Release => {
                let id = match merged.release {
                    Some(r) => milestone_for(ctx, store, r).await?,
                    None => None,
                };
                edit.milestone_id = Some(id.unwrap_or(0));
            }
        }
    }
    Ok(edit)
}

/// A new issue for an incident: every field, the footer with its marker.
pub async fn new_issue(
    ctx: &ProjectCtx<'_>,
    store: &Mutex<&mut Store>,
    ticket: &Ticket,
    footer: &text::Footer,
) -> Result<NewIssue, SyncError> {
    let mut issue = NewIssue {
        title: text::gitlab_title(&ticket.title),
        description: Some(text::gitlab_description(&ticket.description, footer)),
        ..NewIssue::default()
    };
    if let Some(label) = ticket
        .priority
        .and_then(|p| ctx.maps.label_of(p))
        .map(String::from)
    {
        ensure_label(ctx, &label).await?;
        issue.labels = Some(vec![label]);
    }
    if let Some(name) = ticket.assignee.and_then(|a| gitlab_username(ctx, a)) {
        issue.assignee_ids = ctx.gitlab_user_id(&name).await?.map(|id| vec![id]);
    }
    if let Some(r) = ticket.release {
        issue.milestone_id = milestone_for(ctx, store, r).await?;
    }
    Ok(issue)
}

/// Copies `fields` of `merged` onto an incident (used for updates and creates).
pub fn apply_to_incident(incident: &mut Incident, merged: &Ticket, fields: &[Field]) {
    let to_u32 = |v: Option<i64>| v.and_then(|x| u32::try_from(x).ok());
    for field in fields {
        match field {
            Field::Title => incident.name = Some(merged.title.clone()),
            Field::Description => {
                incident.description = Some(text::markdown_to_html(&merged.description))
            }
            Field::Status => {
                if let Some(s) = to_u32(merged.status) {
                    incident.incident_status_id = Some(s);
                }
            }
            Field::Priority => incident.priority_id = to_u32(merged.priority),
            Field::Assignee => incident.owner_id = to_u32(merged.assignee),
            Field::Release => incident.resolved_release_id = to_u32(merged.release),
        }
    }
}
