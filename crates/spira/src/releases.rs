//! Releases (reference §6): the targets of milestones.
//!
//! `GET projects/{p}/releases` leaves iterations out (v7.0 OpenAPI,
//! `Release_Retrieve1`), and Inflectra's own GitLab plug-in makes its
//! releases as iterations: releases are therefore listed with the search,
//! which sees them all.

use reqwest::Method;

use super::client::SpiraClient;
use super::error::SpiraError;
use super::types::{Filter, Release};
use labsync_http::Idempotency;

impl SpiraClient {
    /// Every release of the project, iterations included, active or not.
    pub async fn releases(&self, project: u32) -> Result<Vec<Release>, SpiraError> {
        self.search_releases(project, &[]).await
    }

    /// The releases the filters accept (all pages), iterations included.
    async fn search_releases(
        &self,
        project: u32,
        filters: &[Filter],
    ) -> Result<Vec<Release>, SpiraError> {
        let mut all = Vec::new();
        let mut start_row = 1;
        loop {
            let what = format!("release search in project PR:{project} (rows {start_row}+)");
            let query = [
                ("start_row", start_row.to_string()),
                ("number_rows", self.page_size().to_string()),
            ];
            let page: Vec<Release> = self
                .send(
                    Method::POST,
                    &format!("projects/{project}/releases/search"),
                    &query,
                    Some(filters),
                    // A search changes nothing, so it may be repeated.
                    Idempotency::Safe,
                    &what,
                )
                .await?;
            let full = page.len() as u32 >= self.page_size();
            start_row += page.len() as u32;
            all.extend(page);
            if !full {
                return Ok(all);
            }
        }
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
