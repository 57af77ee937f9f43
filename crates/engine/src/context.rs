//! What one cycle of one project mapping needs to know before it reads a
//! single item: the two projects, the test-management lookups, the resolved mapping
//! tables (auto-mapped users recorded), and caches of users, labels,
//! milestones and releases that the writes fill as they go.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::mapping::{Named, Person, ProjectMaps, TmLookups, auto_map};
use crate::settings::Settings;
use crate::storage::Storage;
use crate::storage::{Kind, MappingRow, Source};

use super::connector::{
    Choice, IssueTracker, TestManagement, TmRelease, TmSetup, TmUser, TrackerMilestone, TrackerUser,
};
use super::{SyncError, lock};

/// Shared by the items of a project that are in flight together: what the
/// writes learn or create (milestones, releases, labels, users) is behind
/// locks held only between awaits.
pub struct ProjectCtx<'a> {
    pub plugin: &'a Settings,
    pub tm: &'a dyn TestManagement,
    pub tracker: &'a dyn IssueTracker,
    pub tm_project: u32,
    /// The tracker project by id (what every call after the setup names).
    pub tracker_project: String,
    pub tracker_project_id: u64,
    pub tracker_path: String,
    pub maps: ProjectMaps,
    pub tm_users: Vec<TmUser>,
    pub releases: Mutex<Vec<TmRelease>>,
    pub milestones: Mutex<Vec<TrackerMilestone>>,
    pub labels: Mutex<HashSet<String>>,
    /// Release ↔ milestone pairs made during this cycle (auto-created).
    made_releases: Mutex<Vec<(i64, String)>>,
    /// Tracker username → user id, filled on demand.
    tracker_users: Mutex<HashMap<String, Option<u64>>>,
    /// Users already warned about this cycle (unmapped assignees).
    warned_users: Mutex<HashSet<String>>,
    /// Held while a counterpart (milestone, release, label) is looked up
    /// and created, so two items never create the same one twice.
    pub creating: tokio::sync::Mutex<()>,
}

/// How loading a project treats users no mapping names: a sync maps them
/// automatically when the plugin asks for it (and records the pairs); a
/// plan takes the user table as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Users {
    AutoMap,
    AsMapped,
}

fn tm_id(text: &str, what: &str) -> Result<u32, SyncError> {
    u32::try_from(text.parse::<i64>().unwrap_or(-1))
        .map_err(|_| SyncError::Config(format!("{what}: '{text}' is not a Spira project id")))
}

impl<'a> ProjectCtx<'a> {
    /// Reads both projects and the lookups, records auto-mapped users, and
    /// resolves the mapping tables. Any failure here stops this project
    /// (not the others) with one clear message.
    pub async fn load(
        plugin: &'a Settings,
        tm: &'a dyn TestManagement,
        tracker: &'a dyn IssueTracker,
        store: &Mutex<&mut dyn Storage>,
        tm_project: i64,
        tracker_project: &str,
        users: Users,
    ) -> Result<ProjectCtx<'a>, SyncError> {
        let sp = tm_id(&tm_project.to_string(), "project mapping")?;
        // Independent reads, made together: a cycle's setup costs the
        // latency of the longest chain (Spira's project, then its template).
        let members = async {
            if plugin.auto_map_users && users == Users::AutoMap {
                tracker.members(tracker_project).await.map(Some)
            } else {
                Ok(None)
            }
        };
        let tracker_reads = async {
            let reads = tokio::try_join!(
                tracker.project(tracker_project),
                tracker.milestones(tracker_project),
                tracker.labels(tracker_project),
                members,
            )?;
            Ok::<_, SyncError>(reads)
        };
        let tm_reads = async { Ok::<_, SyncError>(tm.setup(tm_project).await?) };
        let ((project, milestones, labels, members), setup) =
            tokio::try_join!(tracker_reads, tm_reads)?;
        let labels: HashSet<String> = labels.into_iter().map(|l| l.name).collect();
        if let Some(members) = members {
            record_auto_users(
                &mut **lock(store),
                &plugin.name,
                tm_project,
                &setup.users,
                &members,
            )?;
        }
        let rows = |kind| lock(store).mappings(kind, Some(&plugin.name), Some(tm_project));
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
            &lookups_of(&setup),
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
            tm,
            tracker,
            tm_project: sp,
            tracker_project: project.id.to_string(),
            tracker_project_id: project.id,
            tracker_path: project.path,
            maps,
            tm_users: setup.users,
            releases: Mutex::new(setup.releases),
            milestones: Mutex::new(milestones),
            labels: Mutex::new(labels),
            made_releases: Mutex::default(),
            tracker_users: Mutex::default(),
            warned_users: Mutex::default(),
            creating: tokio::sync::Mutex::new(()),
        })
    }

    /// The test-management project, as its connector names it.
    pub fn tm_project(&self) -> i64 {
        i64::from(self.tm_project)
    }

    /// The tracker's user id of a username, looked up once per cycle.
    pub async fn tracker_user_id(&self, username: &str) -> Result<Option<u64>, SyncError> {
        if let Some(id) = lock(&self.tracker_users).get(username) {
            return Ok(*id);
        }
        // One lookup per user, however many items ask at once.
        let _one = self.creating.lock().await;
        if let Some(id) = lock(&self.tracker_users).get(username) {
            return Ok(*id);
        }
        let id = self.tracker.user_id(username).await?;
        lock(&self.tracker_users).insert(username.to_string(), id);
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

    pub fn tm_login(&self, user_id: i64) -> Option<&str> {
        self.tm_users
            .iter()
            .find(|u| u.id == user_id)
            .map(|u| u.login.as_str())
    }

    pub fn tm_user_name(&self, user_id: i64) -> Option<String> {
        self.tm_users
            .iter()
            .find(|u| u.id == user_id)
            .map(|u| u.full_name.clone().unwrap_or_else(|| u.login.clone()))
    }

    /// Logs an unmapped user once per cycle rather than once per item.
    pub fn warn_unmapped(&self, who: &str, side: &str) {
        if lock(&self.warned_users).insert(format!("{side}:{who}")) {
            tracing::warn!(plugin = %self.plugin.name, project = self.tm_project, user = who,
                "{side} user has no counterpart (add one with `labsync map user add`); the other side is left unassigned");
        }
    }
}

/// What a project's mapping rows are resolved against.
pub fn lookups_of(setup: &TmSetup) -> TmLookups {
    let choices = |list: &[Choice]| {
        list.iter()
            .map(|c| Named {
                id: c.id,
                names: vec![c.name.clone()],
            })
            .collect()
    };
    TmLookups {
        statuses: choices(&setup.statuses),
        priorities: choices(&setup.priorities),
        users: setup
            .users
            .iter()
            .map(|u| Named {
                id: u.id,
                names: vec![u.login.clone()],
            })
            .collect(),
        releases: setup
            .releases
            .iter()
            .map(|r| Named {
                id: r.id,
                names: vec![r.version.clone(), r.name.clone()],
            })
            .collect(),
    }
}

/// Pairs users that no mapping names yet and records the pairs (source auto).
fn record_auto_users(
    store: &mut dyn Storage,
    plugin: &str,
    tm_project: i64,
    tm_users: &[TmUser],
    members: &[TrackerUser],
) -> Result<(), SyncError> {
    let existing = store.mappings(Kind::User, Some(plugin), Some(tm_project))?;
    let mapped_tm: HashSet<String> = existing.iter().map(|r| r.tm_value.to_lowercase()).collect();
    let mapped_tracker: HashSet<String> = existing
        .iter()
        .map(|r| r.tracker_value.to_lowercase())
        .collect();
    let tm: Vec<Person> = tm_users
        .iter()
        .filter(|u| {
            !mapped_tm.contains(&u.login.to_lowercase()) && !mapped_tm.contains(&u.id.to_string())
        })
        .map(|u| Person {
            id: u.id,
            login: u.login.clone(),
            email: u.email.clone(),
            full_name: u.full_name.clone().unwrap_or_default(),
        })
        .collect();
    let tracker: Vec<Person> = members
        .iter()
        .filter(|m| !mapped_tracker.contains(&m.username.to_lowercase()))
        .map(|m| Person {
            id: i64::try_from(m.id).unwrap_or(i64::MAX),
            login: m.username.clone(),
            email: None,
            full_name: m.name.clone(),
        })
        .collect();
    for (tm_id, username) in auto_map(&tm, &tracker) {
        let Some(login) = tm_users
            .iter()
            .find(|u| u.id == tm_id)
            .map(|u| u.login.clone())
        else {
            continue;
        };
        let row = MappingRow {
            plugin: plugin.to_string(),
            tm_project,
            tm_value: login.clone(),
            tracker_value: username.clone(),
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
