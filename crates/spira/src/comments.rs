//! Incident comments (reference §4). Spira lists them oldest first.
//!
//! Whether a new comment moves the incident's LastUpdateDate is not
//! documented, so the engine must not rely on the incident's date to find
//! new comments:
//! - for every incident the change stream yields, call [`SpiraClient::comments_after`]
//!   with the highest CommentId already linked for it (ids only grow; the
//!   CreationDate cannot be trusted, as writers may back-date it);
//! - for linked incidents the stream did not yield, sweep the open ones
//!   (and those changed recently) with the same call, a bounded number per
//!   cycle, so that a comment that left no trace on the incident is still
//!   found within a few cycles;
//! - a comment whose CreationDate is later than its incident's LastUpdateDate
//!   proves that this server does not bump on comments; the engine may log
//!   that once and keep the sweep on.

use reqwest::Method;

use super::client::SpiraClient;
use super::error::SpiraError;
use super::incidents::incident_what;
use super::types::Comment;
use labsync_http::Idempotency;

impl SpiraClient {
    /// Every comment of the incident, oldest first.
    pub async fn list_comments(
        &self,
        project: u32,
        incident: u32,
    ) -> Result<Vec<Comment>, SpiraError> {
        let what = format!("comments of {}", incident_what(project, incident));
        let comments: Vec<Comment> = self
            .get(
                &format!("projects/{project}/incidents/{incident}/comments"),
                &[],
                &what,
            )
            .await?;
        Ok(comments.into_iter().filter(|c| !c.is_deleted).collect())
    }

    /// Comments with an id above `after_comment_id` (ids only grow), for an
    /// engine that remembers the last comment it has seen per incident.
    pub async fn comments_after(
        &self,
        project: u32,
        incident: u32,
        after_comment_id: u32,
    ) -> Result<Vec<Comment>, SpiraError> {
        let mut comments = self.list_comments(project, incident).await?;
        comments.retain(|c| c.comment_id.is_some_and(|id| id > after_comment_id));
        Ok(comments)
    }

    /// Adds one comment; `user_id` sets the author (default: the api user).
    pub async fn add_comment(
        &self,
        project: u32,
        incident: u32,
        text: &str,
        user_id: Option<u32>,
    ) -> Result<Comment, SpiraError> {
        let comment = new_comment(incident, text, user_id);
        let what = format!("new comment on {}", incident_what(project, incident));
        // Spira takes and returns an array.
        let added: Vec<Comment> = self
            .send(
                Method::POST,
                &format!("projects/{project}/incidents/{incident}/comments"),
                &[],
                Some(&[comment]),
                Idempotency::Unsafe,
                &what,
            )
            .await?;
        added.into_iter().next().ok_or_else(|| SpiraError::Decode {
            what,
            reason: "the answer is an empty list".to_string(),
        })
    }
}

/// A comment to post on `incident`. The server takes the incident from the
/// path, but Inflectra's own clients name it in `ArtifactId` too (the v7.0
/// OpenAPI `RemoteComment`; the Excel add-in's `server.js`), so we do.
fn new_comment(incident: u32, text: &str, user_id: Option<u32>) -> Comment {
    Comment {
        artifact_id: Some(incident),
        user_id,
        text: text.to_string(),
        ..Comment::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_comment_names_its_incident() {
        let body = serde_json::to_value([new_comment(7, "<p>hi</p>", Some(3))]).unwrap();
        assert_eq!(
            body,
            serde_json::json!([{"ArtifactId": 7, "UserId": 3, "Text": "<p>hi</p>"}])
        );
    }
}
