//! Each side's item seen as a neutral [`Ticket`].
//!
//! A value a side holds is compared with what labsync would have written
//! there for the base value (its *projection*): when they agree the side is
//! unchanged and the base value is kept. That is what makes values that only
//! exist on one side (an unmapped status, a user with no counterpart, a
//! title cut to GitLab's limit) and our own writes read back never look
//! like edits.

use crate::gitlab::{Issue, IssueState};
use crate::model::{GitLabKept, Ticket};
use crate::spira::Incident;
use crate::text;

use super::context::ProjectCtx;

fn id(v: Option<u32>) -> Option<i64> {
    v.map(i64::from)
}

/// The incident as a ticket; `base` only settles the description's form.
pub fn spira_view(incident: &Incident, base: Option<&Ticket>) -> Ticket {
    let html = incident.description.clone().unwrap_or_default();
    let markdown = text::html_to_markdown(&html);
    let description = match base {
        Some(b) if markdown == b.description || is_projection(&html, &b.description) => {
            b.description.clone()
        }
        _ => markdown,
    };
    Ticket {
        title: incident.name.clone().unwrap_or_default(),
        description,
        status: id(incident.incident_status_id),
        priority: id(incident.priority_id),
        assignee: id(incident.owner_id),
        release: id(incident.resolved_release_id),
    }
}

/// Whether Spira's `html` is what labsync writes for `markdown`, or what
/// Spira keeps of it after stripping dangerous HTML (its own cleaning is not
/// an edit).
fn is_projection(html: &str, markdown: &str) -> bool {
    let written = text::markdown_to_html(markdown);
    html == written || html == text::spira_kept(&written)
}

/// The GitLab state name of an issue.
pub fn state_name(issue: &Issue) -> Option<&'static str> {
    match issue.state {
        IssueState::Opened => Some("opened"),
        IssueState::Closed => Some("closed"),
        IssueState::Other => None,
    }
}

/// What the GitLab side says, in Spira's terms. Returns also the title of
/// a milestone that no release is mapped to yet (the caller creates it).
/// What GitLab `kept` of the base (not what labsync sent) is its
/// projection there.
pub fn gitlab_view(
    ctx: &ProjectCtx<'_>,
    issue: &Issue,
    base: Option<&Ticket>,
    kept: &GitLabKept,
) -> (Ticket, Option<String>) {
    let (body, _) = text::split_footer(issue.description.as_deref().unwrap_or(""));
    let title = match base {
        Some(b) if text::gitlab_title(&b.title) == issue.title => b.title.clone(),
        _ => issue.title.clone(),
    };
    let description = match base {
        Some(b)
            if b.description == body
                || text::split_footer(&text::gitlab_body(&b.description)).0 == body
                || kept.description.as_deref() == Some(body.as_str()) =>
        {
            b.description.clone()
        }
        _ => text::canonical_markdown(&body),
    };
    let base_status = base.and_then(|b| b.status);
    let status = match (state_name(issue), base_status) {
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
    let assignee_name = issue.assignees.first().map(|u| u.username.clone());
    let base_assignee = base.and_then(|b| b.assignee);
    let projected = match &kept.assignee {
        Some(k) => (!k.is_empty()).then(|| k.clone()),
        None => base_assignee.and_then(|a| gitlab_username(ctx, a)),
    };
    let assignee = if base.is_some()
        && projected.as_deref().map(str::to_lowercase)
            == assignee_name.as_deref().map(str::to_lowercase)
    {
        base_assignee
    } else {
        match &assignee_name {
            None => None,
            Some(name) => match ctx.maps.spira_user_of(name) {
                Some(id) => Some(id),
                None => {
                    ctx.warn_unmapped(name, "GitLab");
                    None
                }
            },
        }
    };
    let milestone = issue.milestone.as_ref().map(|m| m.title.clone());
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

/// The GitLab username a Spira user is mapped to, if any.
pub fn gitlab_username(ctx: &ProjectCtx<'_>, spira_user: i64) -> Option<String> {
    ctx.maps.gitlab_user_of(spira_user).map(String::from)
}
