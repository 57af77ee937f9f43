//! What GitLab kept of labsync's writes. GitLab may answer a write with
//! something other than what was sent: an assignee it may not assign is
//! dropped silently and the previous one stays (gitlab-org/gitlab
//! `app/services/issuable_base_service.rb`, `filter_assignees_using_checks`),
//! an unknown milestone is dropped, a description is stored as GitLab
//! cleans it. The answer of every write is read, and what GitLab kept is
//! recorded beside the pair's base ([`TrackerKept`]): GitLab showing it is
//! then not mistaken for a GitLab edit (which would revert Spira), and the
//! warning is given once, when the write is answered.

use super::connector::TrackerItem;
use super::context::ProjectCtx;
use super::resolve::tracker_username;
use crate::storage::Event;
use labsync_model::{Field, Ticket, TrackerKept};

/// The fields GitLab may keep otherwise than sent.
const TRIMMED: [Field; 3] = [Field::Assignee, Field::Release, Field::Description];

/// GitLab's value of `field`, in the form [`TrackerKept`] records.
fn shown(issue: &TrackerItem, field: Field) -> String {
    let lower = |v: &Option<String>| v.as_deref().map(str::to_lowercase).unwrap_or_default();
    match field {
        Field::Assignee => lower(&issue.assignee),
        Field::Release => lower(&issue.milestone),
        _ => issue.body.clone(),
    }
}

/// What labsync sends GitLab for `field` of `ticket`, in the same form.
fn sent(ctx: &ProjectCtx<'_>, ticket: &Ticket, field: Field) -> String {
    match field {
        Field::Assignee => ticket
            .assignee
            .and_then(|a| tracker_username(ctx, a))
            .map(|n| n.to_lowercase())
            .unwrap_or_default(),
        Field::Release => ticket
            .release
            .and_then(|r| ctx.milestone_of(r))
            .map(|t| t.to_lowercase())
            .unwrap_or_default(),
        _ => ctx.tracker.body_as_kept(&ticket.description),
    }
}

/// The pair's record after a sync. A field written this time (`written`)
/// records what GitLab answered where it differs from what was sent, with
/// a warning and an audit event; a field whose base moved forgets its
/// record; the others keep theirs.
pub fn settle(
    ctx: &ProjectCtx<'_>,
    (incident, iid): (u32, u64),
    before: &TrackerKept,
    base: Option<&Ticket>,
    merged: &Ticket,
    answer: &TrackerItem,
    written: &[Field],
) -> (TrackerKept, Vec<Event>) {
    let mut kept = TrackerKept::default();
    let mut events = Vec::new();
    for field in TRIMMED {
        let record = if written.contains(&field) {
            let (sent, shown) = (sent(ctx, merged, field), shown(answer, field));
            if sent == shown {
                None
            } else {
                let shown_text = |v: &str| (field != Field::Description).then(|| none_if_empty(v));
                tracing::warn!(plugin = %ctx.plugin.name, incident, issue = iid, field = field.name(), sent = ?shown_text(&sent), kept = ?shown_text(&shown), "GitLab kept another value than the one sent (a user it may not assign, a milestone it does not know, text it cleans); Spira keeps its value");
                events.push(Event {
                    action: "refused".into(),
                    field: Some(field.name().into()),
                    direction: Some("to-gitlab"),
                    before: shown_text(&sent),
                    after: shown_text(&shown),
                    conflict: false,
                    decision: Some("GitLab kept another value; Spira keeps its own".into()),
                });
                Some(shown)
            }
        } else if base.is_some_and(|b| b.get(field) == merged.get(field)) {
            before.get(field).cloned()
        } else {
            None
        };
        kept.set(field, record);
    }
    (kept, events)
}

fn none_if_empty(v: &str) -> String {
    if v.is_empty() {
        "(none)".into()
    } else {
        v.to_string()
    }
}
