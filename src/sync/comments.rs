//! Comments both ways, append-only, each copy carrying a hidden marker that
//! names its original.
//!
//! Both sides' comments are listed, so the markers already on each side are
//! known before anything is copied: a copy whose link row was lost in a
//! crash is recognised by its marker and linked, never copied again, and a
//! copy is never copied back.

use super::plan::PlannedWrite;
use std::collections::HashSet;

use crate::config::Direction;
use crate::model::Side;
use crate::store::links::CommentLink;
use crate::text;

use super::SyncError;
use super::connector::{TmComment, TrackerComment};
use super::context::ProjectCtx;

const NOTE_MARKER: &str = "<!-- labsync:note=";
const COMMENT_MARKER: &str = "<!-- labsync:comment=";

/// What happened to one pair's comments.
#[derive(Debug, Default)]
pub struct CommentSync {
    pub links: Vec<CommentLink>,
    pub to_gitlab: usize,
    pub to_spira: usize,
    /// The copies a dry run would make.
    pub planned: Vec<PlannedWrite>,
    pub last_note_id: i64,
    pub last_comment_id: i64,
}

fn marker_id(text: &str, prefix: &str) -> Option<i64> {
    let at = text.rfind(prefix)?;
    text[at + prefix.len()..]
        .split_once(" -->")?
        .0
        .trim()
        .parse()
        .ok()
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
    /// Whether to look for new Spira comments. A sync driven by the issue
    /// alone leaves them to the incident listing (a comment that moves the
    /// incident) and the comment sweep (one that does not); they are read
    /// anyway when notes are to be copied, to find copies a crash left.
    pub spira_comments: bool,
}

/// Copies the comments of one linked pair that the other side lacks.
pub async fn sync_comments(
    ctx: &ProjectCtx<'_>,
    linked: &[CommentLink],
    incident_id: u32,
    iid: u64,
    dry_run: bool,
    known: Known,
) -> Result<CommentSync, SyncError> {
    // GitLab counts an issue's user notes: when they are exactly the notes
    // already paired, none is new (nor a copy whose pairing a crash lost),
    // unless one was deleted and another added: the sweep finds those.
    let nothing_new = known.issue_notes == linked.len() as u64 && !known.new_note;
    let notes: Vec<TrackerComment> = if known.created == Some(Side::IssueTracker) || nothing_new {
        Vec::new()
    } else {
        ctx.tracker.comments(&ctx.tracker_project, iid).await?
    };
    let paired: HashSet<i64> = linked.iter().map(|l| l.gitlab_note_id).collect();
    let notes_to_copy = notes.iter().any(|n| {
        n.by_person
            && !paired.contains(&(n.id as i64))
            && marker_id(&n.body, COMMENT_MARKER).is_none()
    });
    let read_comments =
        known.created != Some(Side::TestManagement) && (known.spira_comments || notes_to_copy);
    let comments: Vec<TmComment> = if read_comments {
        ctx.tm
            .comments(ctx.tm_project(), i64::from(incident_id))
            .await?
    } else {
        Vec::new()
    };
    let mut out = CommentSync {
        last_note_id: notes.iter().map(|n| n.id as i64).max().unwrap_or(0),
        last_comment_id: comments.iter().filter_map(|c| c.id).max().unwrap_or(0),
        ..CommentSync::default()
    };
    // A one-way plugin copies comments its way only; copies already made
    // (before the direction was set) are still recognised and linked.
    let direction = ctx.plugin.direction;
    let linked_notes: HashSet<i64> = linked.iter().map(|l| l.gitlab_note_id).collect();
    let linked_comments: HashSet<i64> = linked.iter().map(|l| l.spira_comment_id).collect();

    // GitLab → Spira.
    let copied_notes: Vec<(i64, i64)> = comments
        .iter()
        .filter_map(|c| Some((marker_id(&c.html, NOTE_MARKER)?, c.id?)))
        .collect();
    for note in notes.iter().filter(|n| n.by_person) {
        let note_id = note.id as i64;
        if linked_notes.contains(&note_id) || marker_id(&note.body, COMMENT_MARKER).is_some() {
            continue;
        }
        if let Some((_, comment_id)) = copied_notes.iter().find(|(n, _)| *n == note_id) {
            out.links.push(CommentLink {
                spira_comment_id: *comment_id,
                gitlab_note_id: note_id,
                origin: Side::IssueTracker,
            });
            continue;
        }
        if direction == Direction::ToGitLab {
            continue;
        }
        if dry_run {
            out.planned.push(PlannedWrite::CopyNoteToIncident {
                issue: iid,
                note: note.id,
                author: note.author_username.clone(),
                incident: i64::from(incident_id),
            });
            continue;
        }
        let html = format!(
            "<p><strong>{}</strong> (@{}) commented in GitLab on {}:</p>\n{}\n{NOTE_MARKER}{note_id} -->",
            text::escape_html(&note.author_name),
            text::escape_html(&note.author_username),
            note.created_at.format("%Y-%m-%d %H:%M UTC"),
            text::markdown_to_html(&note.body),
        );
        let author = ctx.maps.spira_user_of(&note.author_username);
        let created = ctx
            .tm
            .add_comment(ctx.tm_project(), i64::from(incident_id), &html, author)
            .await?;
        let comment_id = created.id.unwrap_or(0);
        tracing::info!(plugin = %ctx.plugin.name, project = ctx.spira_project, incident = incident_id, issue = iid, note = note_id, comment = comment_id, direction = "to-test-management", "copied comment");
        out.links.push(CommentLink {
            spira_comment_id: comment_id,
            gitlab_note_id: note_id,
            origin: Side::IssueTracker,
        });
        out.to_spira += 1;
        out.last_comment_id = out.last_comment_id.max(comment_id);
    }

    // Spira → GitLab.
    let copied_comments: Vec<(i64, i64)> = notes
        .iter()
        .filter_map(|n| Some((marker_id(&n.body, COMMENT_MARKER)?, n.id as i64)))
        .collect();
    for comment in comments.iter().filter(|c| !c.deleted) {
        let Some(comment_id) = comment.id else {
            continue;
        };
        if linked_comments.contains(&comment_id) || marker_id(&comment.html, NOTE_MARKER).is_some()
        {
            continue;
        }
        if let Some((_, note_id)) = copied_comments.iter().find(|(c, _)| *c == comment_id) {
            out.links.push(CommentLink {
                spira_comment_id: comment_id,
                gitlab_note_id: *note_id,
                origin: Side::TestManagement,
            });
            continue;
        }
        if direction == Direction::ToTestManagement {
            continue;
        }
        if dry_run {
            out.planned.push(PlannedWrite::CopyCommentToIssue {
                incident: i64::from(incident_id),
                comment: comment_id,
                issue: iid,
            });
            continue;
        }
        let author = comment
            .author_name
            .clone()
            .or_else(|| comment.author_id.and_then(|u| ctx.spira_user_name(u)))
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
        tracing::info!(plugin = %ctx.plugin.name, project = ctx.spira_project, incident = incident_id, issue = iid, comment = comment_id, note = note.id, direction = "to-gitlab", "copied comment");
        out.links.push(CommentLink {
            spira_comment_id: comment_id,
            gitlab_note_id: note.id as i64,
            origin: Side::TestManagement,
        });
        out.to_gitlab += 1;
        out.last_note_id = out.last_note_id.max(note.id as i64);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_name_their_original() {
        assert_eq!(
            marker_id("text\n<!-- labsync:note=42 -->", NOTE_MARKER),
            Some(42)
        );
        assert_eq!(marker_id("text", NOTE_MARKER), None);
        assert_eq!(
            marker_id("<!-- labsync:comment=x -->", COMMENT_MARKER),
            None
        );
    }
}
