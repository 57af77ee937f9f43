//! Each side's item seen as a neutral [`Ticket`].
//!
//! A value a side holds is compared with what labsync would have written
//! there for the base value (its *projection*): when they agree the side is
//! unchanged and the base value is kept. That is what makes values that only
//! exist on one side (an unmapped status, a user with no counterpart, a
//! title cut to GitLab's limit) and our own writes read back never look
//! like edits.

use labsync_model::text;
use labsync_model::{Ticket, TrackerKept};

use super::connector::{TestManagement, TmItem, TrackerItem};
use super::context::ProjectCtx;

/// The incident as a ticket; `base` only settles the description's form;
/// `tm` says what its system keeps of a description written.
pub fn tm_view(tm: &dyn TestManagement, incident: &TmItem, base: Option<&Ticket>) -> Ticket {
    let html = &incident.description;
    let markdown = text::html_to_markdown(html);
    let description = match base {
        Some(b) if markdown == b.description || is_projection(tm, html, &b.description) => {
            b.description.clone()
        }
        _ => markdown,
    };
    Ticket {
        title: incident.title.clone(),
        description,
        status: incident.status,
        priority: incident.priority,
        assignee: incident.owner,
        release: incident.release,
    }
}

/// Whether the test-management side's `html` is what labsync writes for
/// `markdown`, or what that system keeps of it (Spira strips dangerous
/// HTML): its own cleaning is not an edit.
fn is_projection(tm: &dyn TestManagement, html: &str, markdown: &str) -> bool {
    let written = text::markdown_to_html(markdown);
    html == written || html == tm.description_as_kept(&written)
}

/// What the issue tracker says, in the test-management side's terms. Returns also the title of
/// a milestone that no release is mapped to yet (the caller creates it).
/// What GitLab `kept` of the base (not what labsync sent) is its
/// projection there.
pub fn tracker_view(
    ctx: &ProjectCtx<'_>,
    issue: &TrackerItem,
    base: Option<&Ticket>,
    kept: &TrackerKept,
) -> (Ticket, Option<String>) {
    let body = &issue.body;
    let title = match base {
        Some(b) if ctx.tracker.title_as_kept(&b.title) == issue.title => b.title.clone(),
        _ => issue.title.clone(),
    };
    let description = match base {
        Some(b)
            if b.description == *body
                || ctx.tracker.body_as_kept(&b.description) == *body
                || kept.description.as_deref() == Some(body.as_str()) =>
        {
            b.description.clone()
        }
        _ => text::canonical_markdown(body),
    };
    let base_status = base.and_then(|b| b.status);
    let status = match (issue.state.name(), base_status) {
        // A status with no GitLab state, or a state GitLab added since: keep.
        (None, current) => current,
        (Some(_), Some(current)) if ctx.maps.state_of(current).is_none() => Some(current),
        (Some(state), current) => ctx.maps.status_for(state, current).or(current),
    };
    let base_priority = base.and_then(|b| b.priority);
    let priority = match base_priority {
        // An unmapped priority was never shown in GitLab: keep it unless a managed label appeared.
        Some(p) if ctx.maps.label_of(p).is_none() => {
            ctx.maps.priority_for(&issue.labels, None).or(Some(p))
        }
        current => ctx.maps.priority_for(&issue.labels, current),
    };
    let assignee_name = issue.assignee.clone();
    let base_assignee = base.and_then(|b| b.assignee);
    let projected = match &kept.assignee {
        Some(k) => (!k.is_empty()).then(|| k.clone()),
        None => base_assignee.and_then(|a| tracker_username(ctx, a)),
    };
    let assignee = if base.is_some()
        && projected.as_deref().map(str::to_lowercase)
            == assignee_name.as_deref().map(str::to_lowercase)
    {
        base_assignee
    } else {
        match &assignee_name {
            None => None,
            Some(name) => match ctx.maps.tm_user_of(name) {
                Some(id) => Some(id),
                None => {
                    ctx.warn_unmapped(name, "GitLab");
                    None
                }
            },
        }
    };
    let milestone = issue.milestone.clone();
    let base_release = base.and_then(|b| b.release);
    let projected_milestone = match &kept.milestone {
        Some(k) => (!k.is_empty()).then(|| k.clone()),
        None => base_release.and_then(|r| ctx.milestone_of(r).map(|m| m.to_lowercase())),
    };
    let mut missing_release = None;
    let release =
        if base.is_some() && projected_milestone == milestone.as_deref().map(str::to_lowercase) {
            base_release
        } else {
            match &milestone {
                None => None,
                Some(title) => match ctx.release_of(title) {
                    Some(r) => Some(r),
                    None => {
                        missing_release = Some(title.clone());
                        None
                    }
                },
            }
        };
    (
        Ticket {
            title,
            description,
            status,
            priority,
            assignee,
            release,
        },
        missing_release,
    )
}

/// The tracker username a test-management user is mapped to, if any.
pub fn tracker_username(ctx: &ProjectCtx<'_>, tm_user: i64) -> Option<String> {
    ctx.maps.tracker_user_of(tm_user).map(String::from)
}
