//! The plan: the writes a cycle makes, as values. [`pair()`] and
//! [`comments()`] are pure functions of what was read of one pair; `labsync
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

/// A new incident: an issue is created for it (the pair it makes is
/// planned once it exists).
pub fn new_incident(incident: i64, title: String) -> PlannedWrite {
    PlannedWrite::CreateIssue { incident, title }
}

/// A new issue: an incident is created for it, after the release its
/// milestone names when no release is mapped to that milestone yet (the
/// incident is created in it).
pub fn new_issue(issue: u64, title: String, missing_release: Option<String>) -> Vec<PlannedWrite> {
    let release = missing_release.map(|milestone| PlannedWrite::CreateRelease { milestone });
    release
        .into_iter()
        .chain([PlannedWrite::CreateIncident { issue, title }])
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_issue_with_an_unmapped_milestone_plans_its_release_first() {
        assert_eq!(
            new_issue(4, "Crash".into(), Some("Sprint 9".into())),
            vec![
                PlannedWrite::CreateRelease {
                    milestone: "Sprint 9".into()
                },
                PlannedWrite::CreateIncident {
                    issue: 4,
                    title: "Crash".into()
                },
            ]
        );
        assert_eq!(
            new_issue(4, "Crash".into(), None),
            vec![PlannedWrite::CreateIncident {
                issue: 4,
                title: "Crash".into()
            }]
        );
    }
}
