//! What one cycle of one project mapping needs to know before it reads a
//! single item: the two projects, Spira's lookups, the resolved mapping
//! tables (auto-mapped users recorded), and caches of users, labels,
//! milestones and releases that the writes fill as they go.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::config::Plugin;
use crate::gitlab::{GitLabClient, Milestone, ProjectRef};
use crate::mapping::{Person, ProjectMaps, SpiraLookups, auto_map};
use crate::spira::{CustomPropertyDefinition, Lookups, Release, SpiraClient, User};
use crate::store::Store;
use crate::store::mappings::{Kind, MappingRow, Source};

use super::{SyncError, lock};

/// Names of the incident text properties that hold the GitLab side's identity.
pub const ISSUE_PROPERTY: &str = "GitLab Issue";
pub const URL_PROPERTY: &str = "GitLab URL";

/// Shared by the items of a project that are in flight together: what the
/// writes learn or create (milestones, releases, labels, users) is behind
/// locks held only between awaits.
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
    /// Definitions of the "GitLab Issue" and "GitLab URL" properties (a
    /// write of their values carries them).
    pub issue_property: CustomPropertyDefinition,
    pub url_property: Option<CustomPropertyDefinition>,
    pub spira_users: Vec<User>,
    pub releases: Mutex<Vec<Release>>,
    pub milestones: Mutex<Vec<Milestone>>,
    pub labels: Mutex<HashSet<String>>,
    /// Release ↔ milestone pairs made during this cycle (auto-created).
    made_releases: Mutex<Vec<(i64, String)>>,
    /// GitLab username → user id, filled on demand.
    gitlab_users: Mutex<HashMap<String, Option<u64>>>,
    /// Users already warned about this cycle (unmapped assignees).
    warned_users: Mutex<HashSet<String>>,
    /// Held while a counterpart (milestone, release, label) is looked up
    /// and created, so two items never create the same one twice.
    pub creating: tokio::sync::Mutex<()>,
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
        store: &Mutex<&mut Store>,
        spira_project: i64,
        gitlab_project: &str,
        dry_run: bool,
    ) -> Result<ProjectCtx<'a>, SyncError> {
        let sp = spira_id(&spira_project.to_string(), "project mapping")?;
        let gitlab_ref = ProjectRef::parse(gitlab_project);
        // Independent reads, made together: a cycle's setup costs the
        // latency of the longest chain (Spira's project, then its template).
        // A dry run records nothing, auto-mapped users included.
        let members = async {
            if plugin.auto_map_users && !dry_run {
                gitlab.list_members(&gitlab_ref).await.map(Some)
            } else {
                Ok(None)
            }
        };
        let gitlab_reads = async {
            let reads = tokio::try_join!(
                gitlab.project(&gitlab_ref),
                gitlab.list_milestones(&gitlab_ref),
                gitlab.list_labels(&gitlab_ref),
                members,
            )?;
            Ok::<_, SyncError>(reads)
        };
        let spira_reads = async {
            let reads = tokio::try_join!(
                spira.load_lookups(sp),
                spira.project_users(sp),
                spira.releases(sp),
            )?;
            Ok::<_, SyncError>(reads)
        };
        let ((project, milestones, labels, members), (lookups, spira_users, releases)) =
            tokio::try_join!(gitlab_reads, spira_reads)?;
        let labels: HashSet<String> = labels.into_iter().map(|l| l.name).collect();
        let issue_property = lookups.property(ISSUE_PROPERTY).ok_or_else(|| {
            SyncError::Config(format!(
                "Spira project {sp}: its template has no incident text property named '{ISSUE_PROPERTY}'; \
                 add one (Text) so labsync can mark the incidents it links"
            ))
        })?;
        let url_property = lookups.property(URL_PROPERTY);
        if let Some(members) = members {
            record_auto_users(
                &mut lock(store),
                &plugin.name,
                spira_project,
                &spira_users,
                &members,
            )?;
        }
        let rows = |kind| lock(store).mappings(kind, Some(&plugin.name), Some(spira_project));
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
        for stale in maps.stale() {
            tracing::warn!(plugin = %plugin.name, project = sp, "{stale}");
        }
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
            releases: Mutex::new(releases),
            milestones: Mutex::new(milestones),
            labels: Mutex::new(labels),
            made_releases: Mutex::default(),
            gitlab_users: Mutex::default(),
            warned_users: Mutex::default(),
            creating: tokio::sync::Mutex::new(()),
        })
    }

    /// Where a person finds the incident in Spira's web interface.
    pub fn incident_url(&self, incident_id: u32) -> String {
        let base = self.plugin.spira.base_url.as_str().trim_end_matches('/');
        format!("{base}/{}/Incident/{incident_id}.aspx", self.spira_project)
    }

    /// The GitLab user id of a username, looked up once per cycle.
    pub async fn gitlab_user_id(&self, username: &str) -> Result<Option<u64>, SyncError> {
        if let Some(id) = lock(&self.gitlab_users).get(username) {
            return Ok(*id);
        }
        // One lookup per user, however many items ask at once.
        let _one = self.creating.lock().await;
        if let Some(id) = lock(&self.gitlab_users).get(username) {
            return Ok(*id);
        }
        let id = self
            .gitlab
            .find_user_by_username(username)
            .await?
            .map(|u| u.id);
        lock(&self.gitlab_users).insert(username.to_string(), id);
        Ok(id)
    }

    /// The milestone a release is mapped to (by configuration, or made this cycle).
    pub fn milestone_of(&self, release: i64) -> Option<String> {
        self.maps
            .milestone_of(release)
            .map(String::from)
            .or_else(|| {
                lock(&self.made_releases)
                    .iter()
                    .find(|(r, _)| *r == release)
                    .map(|(_, m)| m.clone())
            })
    }

    /// The release a milestone title is mapped to (case-insensitive).
    pub fn release_of(&self, milestone: &str) -> Option<i64> {
        self.maps.release_of(milestone).or_else(|| {
            lock(&self.made_releases)
                .iter()
                .find(|(_, m)| m.eq_ignore_ascii_case(milestone))
                .map(|(r, _)| *r)
        })
    }

    /// Records a release ↔ milestone pair made during the cycle.
    pub fn add_release(&self, release: i64, milestone: &str) {
        lock(&self.made_releases).push((release, milestone.to_string()));
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
    pub fn warn_unmapped(&self, who: &str, side: &str) {
        if lock(&self.warned_users).insert(format!("{side}:{who}")) {
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
