//! The bodies the client sends. Only fields that are set are serialized, so
//! an edit never overwrites what the engine did not mean to change.

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use labsync_http::secret::Secret;

fn comma_joined<S: Serializer>(labels: &Option<Vec<String>>, s: S) -> Result<S::Ok, S::Error> {
    match labels {
        Some(l) => s.serialize_str(&l.join(",")),
        None => s.serialize_none(),
    }
}

/// Body of `POST /projects/:id/issues`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NewIssue {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Missing labels are created by GitLab.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "comma_joined"
    )]
    pub labels: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_ids: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestone_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidential: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
}

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StateEvent {
    Close,
    Reopen,
}

/// Body of `PUT /projects/:id/issues/:iid`: only the fields set are sent.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IssueEdit {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Replaces the whole set; `Some(vec![])` removes all.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "comma_joined"
    )]
    pub labels: Option<Vec<String>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "comma_joined"
    )]
    pub add_labels: Option<Vec<String>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "comma_joined"
    )]
    pub remove_labels: Option<Vec<String>>,
    /// `Some(vec![])` unassigns everyone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_ids: Option<Vec<u64>>,
    /// `Some(0)` removes the milestone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestone_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_event: Option<StateEvent>,
}

impl IssueEdit {
    pub fn is_empty(&self) -> bool {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_object().map(serde_json::Map::is_empty))
            .unwrap_or(true)
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct NewLabel {
    pub name: String,
    /// `#RRGGBB` or a CSS colour name.
    pub color: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct NewMilestone {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
}

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MilestoneEvent {
    Close,
    Activate,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct MilestoneEdit {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_event: Option<MilestoneEvent>,
}

/// Body of `POST /projects/:id/hooks`. The secret token is sent, never shown.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NewHook {
    pub url: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_secret"
    )]
    pub token: Option<Secret>,
    pub issues_events: bool,
    pub note_events: bool,
    pub confidential_issues_events: bool,
    pub confidential_note_events: bool,
    pub enable_ssl_verification: bool,
}

fn expose_secret<S: Serializer>(token: &Option<Secret>, s: S) -> Result<S::Ok, S::Error> {
    match token {
        Some(t) => s.serialize_str(t.expose()),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_send_only_what_is_set() {
        let edit = IssueEdit {
            add_labels: Some(vec!["priority::high".into(), "bug".into()]),
            assignee_ids: Some(vec![]),
            milestone_id: Some(0),
            ..IssueEdit::default()
        };
        assert_eq!(
            serde_json::to_value(&edit).unwrap(),
            serde_json::json!({"add_labels": "priority::high,bug", "assignee_ids": [], "milestone_id": 0})
        );
        assert!(IssueEdit::default().is_empty());
    }
}
