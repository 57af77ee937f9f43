//! A pair's comments: read as far as the pair needs them, then the copies
//! its comment plan names ([`super::plan::comments()`]) are made, each
//! carrying a hidden marker that names its original.

use crate::storage::CommentLink;
use labsync_model::Side;
use labsync_model::text;

use super::SyncError;
use super::connector::{TmComment, TrackerComment};
use super::context::ProjectCtx;
use super::plan::{
    COMMENT_MARKER, CommentPlan, CommentStep, CommentsRead, NOTE_MARKER, notes_to_copy,
};

/// What copying one pair's comments did.
#[derive(Debug, Default)]
pub struct CommentSync {
    pub links: Vec<CommentLink>,
    pub to_tracker: usize,
    pub to_tm: usize,
    pub last_note_id: i64,
    pub last_comment_id: i64,
}

/// What is known about a pair's comments before any is read.
#[derive(Clone, Copy, Debug)]
pub struct Known {
    /// The side of the pair this cycle created, if any: it has no
    /// comments yet, so they are not read.
    pub created: Option<Side>,
    /// The issue's `user_notes_count` as last read.
    pub issue_notes: u64,
    /// A note newer than any seen is known to exist (the comment sweep found
    /// it): read the notes even when their count equals the paired ones, as
    /// after one note deleted and one added.
    pub new_note: bool,
    /// Whether to look for new test-management comments. A sync driven by the issue
    /// alone leaves them to the incident listing (a comment that moves the
    /// incident) and the comment sweep (one that does not); they are read
    /// anyway when notes are to be copied, to find copies a crash left.
    pub tm_comments: bool,
}

/// Both sides' comments, as far as they were read.
pub struct Read {
    pub notes: Vec<TrackerComment>,
    pub comments: Vec<TmComment>,
}

/// Reads what the pair's comment plan needs, and no more.
pub async fn read(
    ctx: &ProjectCtx<'_>,
    linked: &[CommentLink],
    incident_id: u32,
    iid: u64,
    known: Known,
) -> Result<Read, SyncError> {
    // GitLab counts an issue's user notes: when they are exactly the notes
    // already paired, none is new (nor a copy whose pairing a crash lost),
    // unless one was deleted and another added: the sweep finds those.
    let nothing_new = known.issue_notes == linked.len() as u64 && !known.new_note;
    let notes: Vec<TrackerComment> = if known.created == Some(Side::IssueTracker) || nothing_new {
        Vec::new()
    } else {
        ctx.tracker.comments(&ctx.tracker_project, iid).await?
    };
    let read_comments = known.created != Some(Side::TestManagement)
        && (known.tm_comments || notes_to_copy(&notes, linked));
    let comments: Vec<TmComment> = if read_comments {
        ctx.tm
            .comments(ctx.tm_project(), i64::from(incident_id))
            .await?
    } else {
        Vec::new()
    };
    Ok(Read { notes, comments })
}

impl Read {
    /// The pair's comment plan.
    pub fn plan<'a>(
        &'a self,
        ctx: &ProjectCtx<'_>,
        linked: &'a [CommentLink],
        incident_id: u32,
        iid: u64,
    ) -> CommentPlan<'a> {
        super::plan::comments(&CommentsRead {
            incident: i64::from(incident_id),
            issue: iid,
            notes: &self.notes,
            comments: &self.comments,
            linked,
            direction: ctx.plugin.direction,
        })
    }
}

/// Makes the copies of `plan`, in its order, and records the pairs.
pub async fn apply(
    ctx: &ProjectCtx<'_>,
    plan: &CommentPlan<'_>,
    incident_id: u32,
) -> Result<CommentSync, SyncError> {
    let mut out = CommentSync {
        last_note_id: plan.last_note_id,
        last_comment_id: plan.last_comment_id,
        ..CommentSync::default()
    };
    for step in &plan.steps {
        match step {
            CommentStep::Link(link) => out.links.push(link.clone()),
            CommentStep::CopyNote(note) => {
                let comment_id = copy_note(ctx, note, incident_id, plan.issue).await?;
                out.links.push(CommentLink {
                    tm_comment: comment_id,
                    tracker_comment: note.id as i64,
                    origin: Side::IssueTracker,
                });
                out.to_tm += 1;
                out.last_comment_id = out.last_comment_id.max(comment_id);
            }
            CommentStep::CopyComment(comment_id, comment) => {
                let note_id =
                    copy_comment(ctx, comment, *comment_id, incident_id, plan.issue).await?;
                out.links.push(CommentLink {
                    tm_comment: *comment_id,
                    tracker_comment: note_id,
                    origin: Side::TestManagement,
                });
                out.to_tracker += 1;
                out.last_note_id = out.last_note_id.max(note_id);
            }
        }
    }
    Ok(out)
}

/// Copies a note to the incident, with a header naming its author.
/// Returns the new comment's id.
async fn copy_note(
    ctx: &ProjectCtx<'_>,
    note: &TrackerComment,
    incident_id: u32,
    iid: u64,
) -> Result<i64, SyncError> {
    let note_id = note.id as i64;
    let html = format!(
        "<p><strong>{}</strong> (@{}) commented in GitLab on {}:</p>\n{}\n{NOTE_MARKER}{note_id} -->",
        text::escape_html(&note.author_name),
        text::escape_html(&note.author_username),
        note.created_at.format("%Y-%m-%d %H:%M UTC"),
        text::markdown_to_html(&note.body),
    );
    let author = ctx.maps.tm_user_of(&note.author_username);
    let created = ctx
        .tm
        .add_comment(ctx.tm_project(), i64::from(incident_id), &html, author)
        .await?;
    let comment_id = created.id.unwrap_or(0);
    tracing::info!(plugin = %ctx.plugin.name, project = ctx.tm_project, incident = incident_id, issue = iid, note = note_id, comment = comment_id, direction = "to-test-management", "copied comment");
    Ok(comment_id)
}

/// Copies a comment to the issue, with a header naming its author.
/// Returns the new note's id.
async fn copy_comment(
    ctx: &ProjectCtx<'_>,
    comment: &TmComment,
    comment_id: i64,
    incident_id: u32,
    iid: u64,
) -> Result<i64, SyncError> {
    let author = comment
        .author_name
        .clone()
        .or_else(|| comment.author_id.and_then(|u| ctx.tm_user_name(u)))
        .unwrap_or_else(|| "Someone".into());
    let when = comment
        .created_at
        .map(|d| format!(" on {}", d.format("%Y-%m-%d %H:%M UTC")))
        .unwrap_or_default();
    let body = format!(
        "**{}** commented in Spira{when}:\n\n{}\n\n{COMMENT_MARKER}{comment_id} -->",
        author.replace('*', "\\*"),
        text::html_to_markdown(&comment.html),
    );
    // The tracker keeps it text: no line of it runs as a command.
    let note = ctx
        .tracker
        .add_comment(&ctx.tracker_project, iid, &body)
        .await?;
    tracing::info!(plugin = %ctx.plugin.name, project = ctx.tm_project, incident = incident_id, issue = iid, comment = comment_id, note = note.id, direction = "to-gitlab", "copied comment");
    Ok(note.id as i64)
}
