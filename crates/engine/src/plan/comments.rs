//! Which comments of one pair are copied, from both sides' comments as
//! read and the pairs already recorded. Each copy carries a hidden marker
//! naming its original, so a copy whose link row a crash lost is
//! recognised and linked, never copied again, and never copied back.

use std::collections::HashSet;

use crate::connector::{TmComment, TrackerComment};
use crate::settings::Direction;
use crate::storage::CommentLink;
use labsync_model::Side;

use super::PlannedWrite;

/// Ends a note's copy on the test-management side: names the note.
pub const NOTE_MARKER: &str = "<!-- labsync:note=";
/// Ends a comment's copy on the issue: names the comment.
pub const COMMENT_MARKER: &str = "<!-- labsync:comment=";

/// The id a copy's marker names.
pub fn marker_id(text: &str, prefix: &str) -> Option<i64> {
    let at = text.rfind(prefix)?;
    text[at + prefix.len()..]
        .split_once(" -->")?
        .0
        .trim()
        .parse()
        .ok()
}

/// What was read of one pair's comments.
#[derive(Clone, Copy, Debug)]
pub struct CommentsRead<'a> {
    pub incident: i64,
    pub issue: u64,
    /// The issue's notes (empty when they were not read).
    pub notes: &'a [TrackerComment],
    /// The incident's comments (empty when they were not read).
    pub comments: &'a [TmComment],
    /// The pairs already recorded.
    pub linked: &'a [CommentLink],
    pub direction: Direction,
}

/// One step of a pair's comment sync, in the order they are made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommentStep<'a> {
    /// A copy found by its marker whose pairing was not recorded: recorded.
    Link(CommentLink),
    /// A note copied to the incident.
    CopyNote(&'a TrackerComment),
    /// A comment (with its id) copied to the issue.
    CopyComment(i64, &'a TmComment),
}

/// The comment steps of one pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentPlan<'a> {
    pub incident: i64,
    pub issue: u64,
    pub steps: Vec<CommentStep<'a>>,
    /// The newest note and comment read (what a later cycle compares with).
    pub last_note_id: i64,
    pub last_comment_id: i64,
}

/// Whether the notes hold one by a person that is neither paired nor a
/// copy: only then must the incident's comments be read to find copies a
/// crash left.
pub fn notes_to_copy(notes: &[TrackerComment], linked: &[CommentLink]) -> bool {
    let paired: HashSet<i64> = linked.iter().map(|l| l.tracker_comment).collect();
    notes.iter().any(|n| {
        n.by_person
            && !paired.contains(&(n.id as i64))
            && marker_id(&n.body, COMMENT_MARKER).is_none()
    })
}

/// Plans the copies of one pair: notes to the incident first, then
/// comments to the issue. A one-way plugin copies its way only; copies
/// made before the direction was set are still recognised and linked.
pub fn comments<'a>(read: &CommentsRead<'a>) -> CommentPlan<'a> {
    let mut steps = notes_to_incident(read);
    steps.append(&mut comments_to_issue(read));
    CommentPlan {
        incident: read.incident,
        issue: read.issue,
        steps,
        last_note_id: read.notes.iter().map(|n| n.id as i64).max().unwrap_or(0),
        last_comment_id: read.comments.iter().filter_map(|c| c.id).max().unwrap_or(0),
    }
}

fn notes_to_incident<'a>(read: &CommentsRead<'a>) -> Vec<CommentStep<'a>> {
    let linked: HashSet<i64> = read.linked.iter().map(|l| l.tracker_comment).collect();
    let copies: Vec<(i64, i64)> = read
        .comments
        .iter()
        .filter_map(|c| Some((marker_id(&c.html, NOTE_MARKER)?, c.id?)))
        .collect();
    let mut steps = Vec::new();
    for note in read.notes.iter().filter(|n| n.by_person) {
        let note_id = note.id as i64;
        if linked.contains(&note_id) || marker_id(&note.body, COMMENT_MARKER).is_some() {
            continue;
        }
        if let Some((_, comment_id)) = copies.iter().find(|(n, _)| *n == note_id) {
            steps.push(CommentStep::Link(CommentLink {
                tm_comment: *comment_id,
                tracker_comment: note_id,
                origin: Side::IssueTracker,
            }));
        } else if read.direction != Direction::ToIssueTracker {
            steps.push(CommentStep::CopyNote(note));
        }
    }
    steps
}

fn comments_to_issue<'a>(read: &CommentsRead<'a>) -> Vec<CommentStep<'a>> {
    let linked: HashSet<i64> = read.linked.iter().map(|l| l.tm_comment).collect();
    let copies: Vec<(i64, i64)> = read
        .notes
        .iter()
        .filter_map(|n| Some((marker_id(&n.body, COMMENT_MARKER)?, n.id as i64)))
        .collect();
    let mut steps = Vec::new();
    for comment in read.comments.iter().filter(|c| !c.deleted) {
        let Some(comment_id) = comment.id else {
            continue;
        };
        if linked.contains(&comment_id) || marker_id(&comment.html, NOTE_MARKER).is_some() {
            continue;
        }
        if let Some((_, note_id)) = copies.iter().find(|(c, _)| *c == comment_id) {
            steps.push(CommentStep::Link(CommentLink {
                tm_comment: comment_id,
                tracker_comment: *note_id,
                origin: Side::TestManagement,
            }));
        } else if read.direction != Direction::ToTestManagement {
            steps.push(CommentStep::CopyComment(comment_id, comment));
        }
    }
    steps
}

impl CommentPlan<'_> {
    /// The copies as `labsync plan` shows them (a pairing recorded is not
    /// a write to either side).
    pub fn writes(&self) -> Vec<PlannedWrite> {
        let (incident, issue) = (self.incident, self.issue);
        self.steps
            .iter()
            .filter_map(|step| match step {
                CommentStep::Link(_) => None,
                CommentStep::CopyNote(note) => Some(PlannedWrite::CopyNoteToIncident {
                    issue,
                    note: note.id,
                    author: note.author_username.clone(),
                    incident,
                }),
                CommentStep::CopyComment(comment, _) => Some(PlannedWrite::CopyCommentToIssue {
                    incident,
                    comment: *comment,
                    issue,
                }),
            })
            .collect()
    }
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

    fn note(id: u64, body: &str) -> TrackerComment {
        TrackerComment {
            id,
            body: body.into(),
            author_username: "alice".into(),
            author_name: "Alice".into(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            by_person: true,
        }
    }

    fn comment(id: i64, html: &str) -> TmComment {
        TmComment {
            id: Some(id),
            html: html.into(),
            ..TmComment::default()
        }
    }

    fn read<'a>(
        notes: &'a [TrackerComment],
        comments: &'a [TmComment],
        linked: &'a [CommentLink],
    ) -> CommentsRead<'a> {
        CommentsRead {
            incident: 7,
            issue: 3,
            notes,
            comments,
            linked,
            direction: Direction::Both,
        }
    }

    #[test]
    fn a_new_comment_on_each_side_is_copied_to_the_other() {
        let notes = [note(10, "from GitLab")];
        let tm = [comment(20, "<p>from Spira</p>")];
        let plan = comments(&read(&notes, &tm, &[]));
        assert_eq!(
            plan.writes(),
            vec![
                PlannedWrite::CopyNoteToIncident {
                    issue: 3,
                    note: 10,
                    author: "alice".into(),
                    incident: 7
                },
                PlannedWrite::CopyCommentToIssue {
                    incident: 7,
                    comment: 20,
                    issue: 3
                },
            ]
        );
        assert_eq!((plan.last_note_id, plan.last_comment_id), (10, 20));
    }

    #[test]
    fn paired_comments_copies_and_system_notes_are_not_copied() {
        let mut system = note(11, "changed the milestone");
        system.by_person = false;
        let notes = [
            note(10, "paired"),
            system,
            note(12, "copy\n<!-- labsync:comment=21 -->"),
        ];
        let mut deleted = comment(22, "<p>gone</p>");
        deleted.deleted = true;
        let tm = [
            comment(20, "<p>paired</p>"),
            comment(21, "<p>copied to GitLab</p>"),
            deleted,
        ];
        let linked = [CommentLink {
            tm_comment: 20,
            tracker_comment: 10,
            origin: Side::IssueTracker,
        }];
        let plan = comments(&read(&notes, &tm, &linked));
        assert_eq!(plan.writes(), vec![]);
        // The copy whose pairing was lost is recorded, not made again.
        assert_eq!(
            plan.steps,
            vec![CommentStep::Link(CommentLink {
                tm_comment: 21,
                tracker_comment: 12,
                origin: Side::TestManagement
            })]
        );
        assert!(!notes_to_copy(&notes, &linked));
        assert!(notes_to_copy(&notes[..2], &[]));
    }

    #[test]
    fn a_one_way_plugin_copies_its_way_only() {
        let notes = [note(10, "from GitLab")];
        let tm = [comment(20, "<p>from Spira</p>")];
        let mut to_tracker = read(&notes, &tm, &[]);
        to_tracker.direction = Direction::ToIssueTracker;
        assert_eq!(
            comments(&to_tracker).writes(),
            vec![PlannedWrite::CopyCommentToIssue {
                incident: 7,
                comment: 20,
                issue: 3
            }]
        );
        let mut to_tm = to_tracker;
        to_tm.direction = Direction::ToTestManagement;
        assert_eq!(comments(&to_tm).writes().len(), 1);
        assert!(matches!(
            comments(&to_tm).writes()[0],
            PlannedWrite::CopyNoteToIncident { note: 10, .. }
        ));
    }
}
