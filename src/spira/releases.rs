//! Releases (reference §6): the targets of milestones.

use reqwest::Method;

use super::client::SpiraClient;
use super::error::SpiraError;
use super::types::Release;
use crate::http::Idempotency;

impl SpiraClient {
    pub async fn releases(&self, project: u32) -> Result<Vec<Release>, SpiraError> {
        let what = format!("releases of project PR:{project}");
        self.get(
            &format!("projects/{project}/releases"),
            &[("active_only", "false".to_string())],
            &what,
        )
        .await
    }

    pub async fn get_release(&self, project: u32, id: u32) -> Result<Release, SpiraError> {
        let what = format!("release RL:{id} of project PR:{project}");
        self.get(&format!("projects/{project}/releases/{id}"), &[], &what)
            .await
    }

    /// Creates a release at the top level and returns it as read back.
    pub async fn create_release(
        &self,
        project: u32,
        release: &Release,
    ) -> Result<Release, SpiraError> {
        let what = format!("new release '{}' in project PR:{project}", release.name);
        let created: Release = self
            .send(
                Method::POST,
                &format!("projects/{project}/releases"),
                &[],
                Some(release),
                Idempotency::Unsafe,
                &what,
            )
            .await?;
        let id = created.release_id.ok_or_else(|| SpiraError::Decode {
            what: what.clone(),
            reason: "the answer has no ReleaseId".to_string(),
        })?;
        self.get_release(project, id).await
    }

    /// Saves a release; Spira takes its id from the body, not the path.
    pub async fn update_release(&self, project: u32, release: &Release) -> Result<(), SpiraError> {
        let id = release.release_id.ok_or_else(|| SpiraError::Validation {
            what: format!("a release update in project PR:{project}"),
            message: "the release has no ReleaseId".to_string(),
        })?;
        let what = format!("release RL:{id} of project PR:{project}");
        self.send_no_answer(
            Method::PUT,
            &format!("projects/{project}/releases"),
            Some(release),
            &what,
        )
        .await
    }
}
