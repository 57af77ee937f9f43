//! What one cycle of one project mapping needs to know before it reads a
//! single item: the two projects, Spira's lookups, the resolved mapping
//! tables (auto-mapped users recorded), and caches of users, labels,
//! milestones and releases that the writes fill as they go.

use std::collections::{HashMap, HashSet};

use crate::config::Plugin;
use crate::gitlab::{GitLabClient, Milestone, ProjectRef};
use crate::mapping::{Person, ProjectMaps, SpiraLookups, auto_map};
use crate::spira::{Lookups, Release, SpiraClient, User};
use crate::store::Store;
use crate::store::mappings::{Kind, MappingRow, Source};

use super::SyncError;

/// Names of the incident text properties that hold the GitLab side's identity.
pub const ISSUE_PROPERTY: &str = "GitLab Issue";
pub const URL_PROPERTY: &str = "GitLab URL";

pub struct ProjectCtx<'a> {
    pub plugin: &'a Plugin,
    pub gitlab: &'a GitLabClient,
    pub spira: &'a SpiraClient,
    pub spira_project: u32,
    pub gitlab_ref: ProjectRef,
    pub gitlab_project_id: u64,
    pub gitlab_path: String,
    pub lookups: Lookups,
    pub maps: ProjectMaps,
    /// Custom property numbers of "GitLab Issue" and "GitLab URL".
    pub issue_property: u32,
    pub url_property: Option<u32>,
    pub spira_users: Vec<User>,
    pub releases: Vec<Release>,
    pub milestones: Vec<Milestone>,
    pub labels: HashSet<String>,
    /// GitLab username → user id, filled on demand.
    pub gitlab_users: HashMap<String, Option<u64>>,
    /// Users already warned about this cycle (unmapped assignees).
    pub warned_users: HashSet<String>,
}

fn spira_id(text: &str, what: &str) -> Result<u32, SyncError> {
    u32::try_from(text.parse::<i64>().unwrap_or(-1))
        .map_err(|_| SyncError::Config(format!("{what}: '{text}' is not a Spira project id")))
}

impl<'a> ProjectCtx<'a> {
    /// Reads both projects and the lookups, records auto-mapped users, and
    /// resolves the mapping tables. Any failure here stops this project
    /// (not the others) with one clear message.
    pub async fn load(
        plugin: &'a Plugin,
        gitlab: &'a GitLabClient,
        spira: &'a SpiraClient,
        store: &mut Store,
        spira_project: i64,
        gitlab_project: &str,
        dry_run: bool,
    ) -> Result<ProjectCtx<'a>, SyncError> {
        let sp = spira_id(&spira_project.to_string(), "project mapping")?;
        let gitlab_ref = ProjectRef::parse(gitlab_project);
        let project = gitlab.project(&gitlab_ref).await?;
        let lookups = spira.load_lookups(sp).await?;
        let spira_users = spira.project_users(sp).await?;
        let releases = spira.releases(sp).await?;
        let issue_property = lookups.property_number(ISSUE_PROPERTY).ok_or_else(|| {
            SyncError::Config(format!(
                "Spira project {sp}: its template has no incident text property named '{ISSUE_PROPERTY}'; \
                 add one (Text) so labsync can mark the incidents it links"
            ))
        })?;
        let url_property = lookups.property_number(URL_PROPERTY);
        let milestones = gitlab.list_milestones(&gitlab_ref).await?;
        let labels = gitlab
            .list_labels(&gitlab_ref)
            .await?
            .into_iter()
            .map(|l| l.name)
            .collect();
        // A dry run records nothing, auto-mapped users included.
        if plugin.auto_map_users && !dry_run {
            let members = gitlab.list_members(&gitlab_ref).await?;
            record_auto_users(store, &plugin.name, spira_project, &spira_users, &members)?;
        }
        let rows = |kind| store.mappings(kind, Some(&plugin.name), Some(spira_project));
        let (statuses, priorities, users, release_rows) = (
            rows(Kind::Status)?,
            rows(Kind::Priority)?,
            rows(Kind::User)?,
            rows(Kind::Release)?,
        );
        let maps = ProjectMaps::build(
            &statuses,
            &priorities,
            &users,
            &release_rows,
            &SpiraLookups::from_spira(&lookups, &spira_users, &releases),
        )
        .map_err(|errors| {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            SyncError::Config(format!("Spira project {sp}: {}", text.join("; ")))
        })?;
        Ok(ProjectCtx {
            plugin,
            gitlab,
            spira,
            spira_project: sp,
            gitlab_ref: ProjectRef::Id(project.id),
            gitlab_project_id: project.id,
            gitlab_path: project.path_with_namespace,
            lookups,
            maps,
            issue_property,
            url_property,
            spira_users,
            releases,
            milestones,
            labels,
            gitlab_users: HashMap::new(),
            warned_users: HashSet::new(),
        })
    }

    /// Where a person finds the incident in Spira's web interface.
    pub fn incident_url(&self, incident_id: u32) -> String {
        let base = self.plugin.spira.base_url.as_str().trim_end_matches('/');
        format!("{base}/{}/Incident/{incident_id}.aspx", self.spira_project)
    }

    /// The GitLab user id of a username, looked up once per cycle.
    pub async fn gitlab_user_id(&mut self, username: &str) -> Result<Option<u64>, SyncError> {
        if let Some(id) = self.gitlab_users.get(username) {
            return Ok(*id);
        }
        let id = self
            .gitlab
            .find_user_by_username(username)
            .await?
            .map(|u| u.id);
        self.gitlab_users.insert(username.to_string(), id);
        Ok(id)
    }

    pub fn spira_login(&self, user_id: u32) -> Option<&str> {
        self.spira_users
            .iter()
            .find(|u| u.user_id == user_id)
            .map(|u| u.user_name.as_str())
    }

    pub fn spira_user_name(&self, user_id: u32) -> Option<String> {
        self.spira_users
            .iter()
            .find(|u| u.user_id == user_id)
            .map(|u| u.full_name.clone().unwrap_or_else(|| u.user_name.clone()))
    }

    /// Logs an unmapped user once per cycle rather than once per item.
    pub fn warn_unmapped(&mut self, who: &str, side: &str) {
        if self.warned_users.insert(format!("{side}:{who}")) {
            tracing::warn!(plugin = %self.plugin.name, project = self.spira_project, user = who,
                "{side} user has no counterpart (add one with `labsync map user add`); the other side is left unassigned");
        }
    }
}

/// Pairs users that no mapping names yet and records the pairs (source auto).
fn record_auto_users(
    store: &mut Store,
    plugin: &str,
    spira_project: i64,
    spira_users: &[User],
    members: &[crate::gitlab::Member],
) -> Result<(), SyncError> {
    let existing = store.mappings(Kind::User, Some(plugin), Some(spira_project))?;
    let mapped_spira: HashSet<String> = existing.iter().map(|r| r.spira.to_lowercase()).collect();
    let mapped_gitlab: HashSet<String> = existing.iter().map(|r| r.gitlab.to_lowercase()).collect();
    let spira: Vec<Person> = spira_users
        .iter()
        .filter(|u| {
            !mapped_spira.contains(&u.user_name.to_lowercase())
                && !mapped_spira.contains(&u.user_id.to_string())
        })
        .map(|u| Person {
            id: i64::from(u.user_id),
            login: u.user_name.clone(),
            email: u.email_address.clone(),
            full_name: u.full_name.clone().unwrap_or_default(),
        })
        .collect();
    let gitlab: Vec<Person> = members
        .iter()
        .filter(|m| !mapped_gitlab.contains(&m.username.to_lowercase()))
        .map(|m| Person {
            id: i64::try_from(m.id).unwrap_or(i64::MAX),
            login: m.username.clone(),
            email: None,
            full_name: m.name.clone(),
        })
        .collect();
    for (spira_id, username) in auto_map(&spira, &gitlab) {
        let Some(login) = spira_users
            .iter()
            .find(|u| i64::from(u.user_id) == spira_id)
            .map(|u| u.user_name.clone())
        else {
            continue;
        };
        let row = MappingRow {
            plugin: plugin.to_string(),
            spira_project,
            spira: login.clone(),
            gitlab: username.clone(),
            primary: false,
            source: Source::Auto,
        };
        match store.add_mapping(Kind::User, &row) {
            Ok(()) => {
                tracing::info!(plugin, spira_user = %login, gitlab_user = %username, "auto-mapped user")
            }
            // A concurrent writer or a near-duplicate: the table stays as it is.
            Err(e) => tracing::debug!(plugin, cause = %e, "auto-map skipped"),
        }
    }
    Ok(())
}
