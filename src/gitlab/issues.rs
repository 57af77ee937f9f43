//! Issues and their notes: what the sync engine reads and writes most.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt, TryStreamExt, future};
use reqwest::{Method, StatusCode};

use super::answers::decode;
use super::client::{GitLabClient, iso, q, short};
use super::error::GitLabError;
use super::requests::*;
use super::types::*;
use crate::http::Idempotency;

impl GitLabClient {
    /// Issues updated at or after `since` (all of them when `None`), oldest
    /// update first, every state. Each issue comes once per run even when an
    /// update moves it to a later page while the listing runs.
    pub fn list_issues_updated_since(
        &self,
        project: &ProjectRef,
        since: Option<DateTime<Utc>>,
    ) -> impl Stream<Item = Result<Issue, GitLabError>> + '_ {
        let mut query = q(&[
            ("order_by", "updated_at"),
            ("sort", "asc"),
            ("state", "all"),
        ]);
        if let Some(t) = since {
            query.push(("updated_after".into(), iso(t)));
        }
        let mut seen = HashSet::new();
        self.paged::<Issue>(
            format!("issues of {project}"),
            format!("/projects/{}/issues", project.segment()),
            query,
        )
        .filter(move |item| {
            future::ready(match item {
                Ok(issue) => seen.insert(issue.id),
                Err(_) => true,
            })
        })
    }

    pub async fn get_issue(&self, project: &ProjectRef, iid: u64) -> Result<Issue, GitLabError> {
        let what = format!("issue #{iid} of {project}");
        self.get(
            &what,
            &format!("/projects/{}/issues/{iid}", project.segment()),
            &Vec::new(),
        )
        .await
    }

    pub async fn create_issue(
        &self,
        project: &ProjectRef,
        issue: &NewIssue,
    ) -> Result<Issue, GitLabError> {
        let what = format!("new issue '{}' in {project}", short(&issue.title));
        self.post(
            &what,
            &format!("/projects/{}/issues", project.segment()),
            issue,
        )
        .await
    }

    pub async fn edit_issue(
        &self,
        project: &ProjectRef,
        iid: u64,
        edit: &IssueEdit,
    ) -> Result<Issue, GitLabError> {
        let what = format!("issue #{iid} of {project}");
        if edit.is_empty() {
            // GitLab would answer 400; nothing to change is not an error.
            return self.get_issue(project, iid).await;
        }
        self.put(
            &what,
            &format!("/projects/{}/issues/{iid}", project.segment()),
            edit,
        )
        .await
    }

    /// Issues whose description contains `text` (GitLab's search is fuzzy:
    /// the caller checks each candidate exactly).
    pub async fn find_issues_by_search(
        &self,
        project: &ProjectRef,
        text: &str,
    ) -> Result<Vec<Issue>, GitLabError> {
        let query = q(&[
            ("search", text),
            ("in", "description"),
            ("state", "all"),
            ("order_by", "created_at"),
            ("sort", "asc"),
        ]);
        self.paged::<Issue>(
            format!("issues of {project} matching a search"),
            format!("/projects/{}/issues", project.segment()),
            query,
        )
        .try_collect()
        .await
    }

    // ---- notes ----

    /// Notes of an issue, oldest first, system notes included (see
    /// [`Note::is_user_note`]).
    pub fn list_notes(
        &self,
        project: &ProjectRef,
        iid: u64,
    ) -> impl Stream<Item = Result<Note, GitLabError>> + '_ {
        self.paged(
            format!("notes of issue #{iid} of {project}"),
            format!("/projects/{}/issues/{iid}/notes", project.segment()),
            q(&[("sort", "asc"), ("order_by", "created_at")]),
        )
    }

    pub async fn create_note(
        &self,
        project: &ProjectRef,
        iid: u64,
        body: &str,
    ) -> Result<Note, GitLabError> {
        let what = format!("new comment on issue #{iid} of {project}");
        let path = format!("/projects/{}/issues/{iid}/notes", project.segment());
        let bytes = Self::encode_body(&what, &serde_json::json!({ "body": body }))?;
        let response = self
            .call(
                &what,
                Method::POST,
                &path,
                &Vec::new(),
                Some(bytes),
                Idempotency::Unsafe,
            )
            .await?;
        if response.status == StatusCode::ACCEPTED {
            // A body of quick actions only: GitLab ran them and made no note.
            return Err(GitLabError::Validation {
                what,
                message: "the comment held only quick actions; GitLab ran them and created no note"
                    .into(),
            });
        }
        decode(&what, &response)
    }

    pub async fn edit_note(
        &self,
        project: &ProjectRef,
        iid: u64,
        note_id: u64,
        body: &str,
    ) -> Result<Note, GitLabError> {
        let what = format!("comment {note_id} on issue #{iid} of {project}");
        let path = format!(
            "/projects/{}/issues/{iid}/notes/{note_id}",
            project.segment()
        );
        self.put(&what, &path, &serde_json::json!({ "body": body }))
            .await
    }
}
