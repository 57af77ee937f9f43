//! The plan: the writes a cycle makes, as values. [`pair`] and
//! [`comments`] are pure functions of what was read of one pair; `labsync
//! plan` prints each [`PlannedWrite`] as a line, and `labsync plan --json`
//! as an object.

pub mod comments;
pub mod pair;

pub use comments::{
    COMMENT_MARKER, CommentPlan, CommentStep, CommentsRead, NOTE_MARKER, comments, notes_to_copy,
};
pub use pair::{PairPlan, PairRead, pair};

use serde::Serialize;

use labsync_model::{Connectors, Field, Side};

/// One write the next cycle would make (or a conflict it would settle).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "write", rename_all = "snake_case")]
pub enum PlannedWrite {
    /// A new issue for a new incident.
    CreateIssue { incident: i64, title: String },
    /// A new incident for a new issue.
    CreateIncident { issue: u64, title: String },
    /// A release the test-management side lacks, for an issue's milestone.
    CreateRelease { milestone: String },
    /// A field of a linked issue set from its incident.
    SetIssueField {
        issue: u64,
        incident: i64,
        field: Field,
    },
    /// A field of a linked incident set from its issue.
    SetIncidentField {
        incident: i64,
        issue: u64,
        field: Field,
    },
    /// Both sides changed a field; `winner`'s value is kept (the plugin's
    /// conflict policy).
    Conflict {
        incident: i64,
        issue: u64,
        field: Field,
        #[serde(serialize_with = "side_name")]
        winner: Side,
    },
    /// A note of the issue copied to the incident.
    CopyNoteToIncident {
        issue: u64,
        note: u64,
        author: String,
        incident: i64,
    },
    /// A comment of the incident copied to the issue.
    CopyCommentToIssue {
        incident: i64,
        comment: i64,
        issue: u64,
    },
}

fn side_name<S: serde::Serializer>(side: &Side, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(side.stored_name())
}

impl std::fmt::Display for PlannedWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlannedWrite::CreateIssue { incident, title } => {
                write!(f, "create issue for incident IN:{incident} '{title}'")
            }
            PlannedWrite::CreateIncident { issue, title } => {
                write!(f, "create incident for issue #{issue} '{title}'")
            }
            PlannedWrite::CreateRelease { milestone } => {
                write!(f, "create Spira release for milestone '{milestone}'")
            }
            PlannedWrite::SetIssueField {
                issue,
                incident,
                field,
            } => write!(
                f,
                "issue #{issue}: set {} from incident IN:{incident}",
                field.name()
            ),
            PlannedWrite::SetIncidentField {
                incident,
                issue,
                field,
            } => write!(
                f,
                "incident IN:{incident}: set {} from issue #{issue}",
                field.name()
            ),
            PlannedWrite::Conflict {
                incident,
                issue,
                field,
                winner,
            } => write!(
                f,
                "conflict on {} of IN:{incident} / #{issue}: {} wins",
                field.name(),
                winner.shown_as(&Connectors::SPIRA_GITLAB)
            ),
            PlannedWrite::CopyNoteToIncident {
                issue,
                note,
                author,
                incident,
            } => write!(
                f,
                "copy comment {note} by @{author} on issue #{issue} to incident IN:{incident}"
            ),
            PlannedWrite::CopyCommentToIssue {
                incident,
                comment,
                issue,
            } => write!(
                f,
                "copy comment {comment} of incident IN:{incident} to issue #{issue}"
            ),
        }
    }
}
