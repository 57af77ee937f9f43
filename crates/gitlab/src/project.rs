//! Labels, milestones, users, the token, the project, members and hooks.

use futures_util::TryStreamExt;
use reqwest::{Method, StatusCode};

use super::answers::{decode, status_error};
use super::client::{GitLabClient, q};
use super::error::GitLabError;
use super::requests::*;
use super::types::*;
use labsync_http::Idempotency;

impl GitLabClient {
    pub async fn list_labels(&self, project: &ProjectRef) -> Result<Vec<Label>, GitLabError> {
        self.paged(
            format!("labels of {project}"),
            format!("/projects/{}/labels", project.segment()),
            Vec::new(),
        )
        .try_collect()
        .await
    }

    /// The label titled exactly `name`, found in the list: `GET
    /// .../labels/:name` tries the value as an id first, so a label titled
    /// "42" could answer as the label whose id is 42.
    pub async fn find_label(
        &self,
        project: &ProjectRef,
        name: &str,
    ) -> Result<Option<Label>, GitLabError> {
        let labels: Vec<Label> = self
            .paged(
                format!("label '{name}' of {project}"),
                format!("/projects/{}/labels", project.segment()),
                q(&[("search", name)]),
            )
            .try_collect()
            .await?;
        Ok(labels.into_iter().find(|l| l.name == name))
    }

    /// Creates a label; one that already exists (409) is returned as is.
    pub async fn create_label(
        &self,
        project: &ProjectRef,
        label: &NewLabel,
    ) -> Result<Label, GitLabError> {
        let what = format!("label '{}' of {project}", label.name);
        let path = format!("/projects/{}/labels", project.segment());
        let bytes = Self::encode_body(&what, label)?;
        let response = self
            .raw(
                &what,
                Method::POST,
                &path,
                &Vec::new(),
                Some(bytes),
                Idempotency::Unsafe,
            )
            .await?;
        match response.status {
            StatusCode::CONFLICT => self
                .find_label(project, &label.name)
                .await?
                .ok_or_else(|| status_error(&what, &response, &self.token)),
            s if s.is_success() => decode(&what, &response),
            _ => Err(status_error(&what, &response, &self.token)),
        }
    }

    pub async fn list_milestones(
        &self,
        project: &ProjectRef,
    ) -> Result<Vec<Milestone>, GitLabError> {
        // Group milestones are usable by the project's issues, and their
        // titles are taken project-wide (app/models/milestone.rb), but are
        // listed only with include_ancestors (doc/api/milestones.md).
        self.paged(
            format!("milestones of {project}"),
            format!("/projects/{}/milestones", project.segment()),
            q(&[("include_ancestors", "true")]),
        )
        .try_collect()
        .await
    }

    pub async fn create_milestone(
        &self,
        project: &ProjectRef,
        milestone: &NewMilestone,
    ) -> Result<Milestone, GitLabError> {
        let what = format!("milestone '{}' of {project}", milestone.title);
        self.post(
            &what,
            &format!("/projects/{}/milestones", project.segment()),
            milestone,
        )
        .await
    }

    pub async fn edit_milestone(
        &self,
        project: &ProjectRef,
        milestone_id: u64,
        edit: &MilestoneEdit,
    ) -> Result<Milestone, GitLabError> {
        let what = format!("milestone {milestone_id} of {project}");
        let path = format!("/projects/{}/milestones/{milestone_id}", project.segment());
        self.put(&what, &path, edit).await
    }

    // ---- users, token, project, members ----

    pub async fn current_user(&self) -> Result<User, GitLabError> {
        self.get("the token's user (GET /user)", "/user", &Vec::new())
            .await
    }

    /// The user with this username (case-insensitive), if any.
    pub async fn find_user_by_username(&self, username: &str) -> Result<Option<User>, GitLabError> {
        let what = format!("user '{username}'");
        let users: Vec<User> = self
            .get(&what, "/users", &q(&[("username", username)]))
            .await?;
        Ok(users.into_iter().next())
    }

    pub async fn get_user(&self, id: u64) -> Result<User, GitLabError> {
        self.get(&format!("user {id}"), &format!("/users/{id}"), &Vec::new())
            .await
    }

    /// Scopes, expiry and owner of the token in use.
    pub async fn token_self(&self) -> Result<TokenInfo, GitLabError> {
        self.get(
            "the token (GET /personal_access_tokens/self)",
            "/personal_access_tokens/self",
            &Vec::new(),
        )
        .await
    }

    pub async fn project(&self, project: &ProjectRef) -> Result<Project, GitLabError> {
        let what = match project {
            ProjectRef::Path(p) => format!("project {p}"),
            ProjectRef::Id(_) => project.to_string(),
        };
        self.get(
            &what,
            &format!("/projects/{}", project.segment()),
            &Vec::new(),
        )
        .await
    }

    /// A user's effective access level in the project; `None` when not a member.
    pub async fn member_access_level(
        &self,
        project: &ProjectRef,
        user_id: u64,
    ) -> Result<Option<u32>, GitLabError> {
        let what = format!("membership of user {user_id} in {project}");
        let path = format!("/projects/{}/members/all/{user_id}", project.segment());
        match self.get::<Member>(&what, &path, &Vec::new()).await {
            Ok(member) => Ok(Some(member.access_level)),
            Err(GitLabError::NotFound { .. }) => {
                // Tell "no such member" from "no such project".
                self.project(project).await?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Everyone with access to the project, inherited members included
    /// (for pairing users with Spira's).
    pub async fn list_members(&self, project: &ProjectRef) -> Result<Vec<Member>, GitLabError> {
        self.paged(
            format!("members of {project}"),
            format!("/projects/{}/members/all", project.segment()),
            Vec::new(),
        )
        .try_collect()
        .await
    }

    // ---- hooks ----

    pub async fn list_hooks(&self, project: &ProjectRef) -> Result<Vec<Hook>, GitLabError> {
        self.paged(
            format!("webhooks of {project}"),
            format!("/projects/{}/hooks", project.segment()),
            Vec::new(),
        )
        .try_collect()
        .await
    }

    pub async fn create_hook(
        &self,
        project: &ProjectRef,
        hook: &NewHook,
    ) -> Result<Hook, GitLabError> {
        let what = format!("new webhook of {project}");
        self.post(
            &what,
            &format!("/projects/{}/hooks", project.segment()),
            hook,
        )
        .await
    }

    /// Deletes a hook; one already gone counts as deleted.
    pub async fn delete_hook(&self, project: &ProjectRef, hook_id: u64) -> Result<(), GitLabError> {
        let what = format!("webhook {hook_id} of {project}");
        let path = format!("/projects/{}/hooks/{hook_id}", project.segment());
        let response = self
            .raw(
                &what,
                Method::DELETE,
                &path,
                &Vec::new(),
                None,
                Idempotency::Safe,
            )
            .await?;
        let hook_gone = response.status == StatusCode::NOT_FOUND
            && String::from_utf8_lossy(&response.body).contains("Hook");
        if response.status.is_success() || hook_gone {
            Ok(())
        } else {
            Err(status_error(&what, &response, &self.token))
        }
    }
}
