//! Both simulators, a database and a plugin between them: the world the
//! engine tests act in.

use labsync::config::Config;
use labsync::connectors::run_plugin;
use labsync::connectors::{CycleMode, CycleOptions};
use labsync::gitlab::GitLabClient;
use labsync::http::HttpSettings;
use labsync::secret::Secret;
use labsync::spira::SpiraClient;
use labsync::store::Store;
use labsync::sync::CycleReport;
use labsync_sim::Seed;
use labsync_sim::gitlab::{GitLabSim, GitLabSimConfig};
use labsync_sim::spira::{SpiraSim, SpiraSimConfig};

pub struct World {
    pub gitlab: GitLabSim,
    pub spira: SpiraSim,
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub config: Config,
    /// The plugins.toml text `config` was read from.
    pub text: String,
}

/// The name of the world's plugin.
pub const PLUGIN: &str = "t";

/// Requests the simulators answered, per side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requests {
    pub gitlab: u64,
    pub spira: u64,
}

/// Another labsync install: its own database and configuration.
pub struct Install {
    pub store: Store,
    pub config: Config,
}

pub fn settings() -> HttpSettings {
    HttpSettings {
        min_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(50),
        ..HttpSettings::default()
    }
}

pub fn options(mode: CycleMode) -> CycleOptions {
    CycleOptions {
        trigger: "sync-now",
        mode,
        http: settings(),
        stop: None,
        progress: None,
    }
}

impl World {
    /// `extra` is added to the plugin block (e.g. `conflict = "gitlab"`).
    pub async fn new(extra: &str) -> World {
        Self::with(
            extra,
            SpiraSimConfig {
                seed: Seed::Empty,
                comment_bumps_last_update: true,
                ..Default::default()
            },
        )
        .await
    }

    pub async fn with(extra: &str, spira: SpiraSimConfig) -> World {
        let gitlab = GitLabSimConfig {
            seed: Seed::Empty,
            ..Default::default()
        };
        Self::with_both(extra, gitlab, spira).await
    }

    /// A world whose GitLab is configured too (seed it `Empty`).
    pub async fn with_both(extra: &str, gitlab: GitLabSimConfig, spira: SpiraSimConfig) -> World {
        Self::for_plugin(PLUGIN, extra, gitlab, spira).await
    }

    /// The same with the plugin named `plugin` (the bench's is "bench").
    pub async fn for_plugin(
        plugin: &str,
        extra: &str,
        gitlab: GitLabSimConfig,
        spira: SpiraSimConfig,
    ) -> World {
        let gitlab = GitLabSim::start(gitlab).await.unwrap();
        let spira = SpiraSim::start(spira).await.unwrap();
        let text = labsync_sim::config::plugin_toml(plugin, &gitlab, &spira, extra);
        let config = Config::from_str(std::path::Path::new("plugins.toml"), &text).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("plugins.toml"), &text).unwrap();
        let mut store = Store::open(&dir.path().join("labsync.db")).unwrap();
        store.apply_config(&config).unwrap();
        World {
            gitlab,
            spira,
            dir,
            store,
            config,
            text,
        }
    }

    pub async fn cycle(&mut self) -> CycleReport {
        let report = self.cycle_that_may_fail().await;
        for p in &report.projects {
            assert!(p.fatal.is_none(), "cycle failed: {:?}", p.fatal);
        }
        report
    }

    /// A cycle whose projects may fail (a test breaking one on purpose).
    pub async fn cycle_that_may_fail(&mut self) -> CycleReport {
        run_plugin(
            &self.config.plugins[0],
            &mut self.store,
            &options(CycleMode::Sync),
        )
        .await
    }

    /// The database of a second install over the same servers, with the
    /// same configuration (`extra` added to the plugin block first).
    pub fn second_install(&self, extra: &str) -> Install {
        let text = labsync_sim::config::plugin_toml(
            &self.config.plugins[0].name,
            &self.gitlab,
            &self.spira,
            extra,
        );
        let config = Config::from_str(std::path::Path::new("plugins.toml"), &text).unwrap();
        let n = std::fs::read_dir(self.dir.path()).unwrap().count();
        let mut store = Store::open(&self.dir.path().join(format!("install-{n}.db"))).unwrap();
        store.apply_config(&config).unwrap();
        Install { store, config }
    }

    /// One cycle of another install over this world's servers.
    pub async fn cycle_of(&self, install: &mut Install) -> CycleReport {
        run_plugin(
            &install.config.plugins[0],
            &mut install.store,
            &options(CycleMode::Sync),
        )
        .await
    }

    pub async fn plan(&mut self) -> CycleReport {
        run_plugin(
            &self.config.plugins[0],
            &mut self.store,
            &options(CycleMode::Plan),
        )
        .await
    }

    /// Zeroes both simulators' request counters.
    pub fn reset_counts(&self) {
        self.gitlab.reset_counts();
        self.spira.reset_counts();
    }

    /// Requests both simulators answered since their counters were zeroed.
    pub fn requests(&self) -> Requests {
        Requests {
            gitlab: self.gitlab.request_count(""),
            spira: self.spira.request_count(""),
        }
    }

    /// Moves both servers' clocks, as time passing would.
    pub fn advance(&self, by: chrono::Duration) {
        self.gitlab.clock().advance(by);
        self.spira.clock().advance(by);
    }

    /// Starts over with an empty database, as after losing the file: the
    /// operator runs `labsync rebind` so that it takes over the lost one.
    pub async fn forget_database(&mut self) {
        let path = self.dir.path().join("labsync-new.db");
        self.store = Store::open(&path).unwrap();
        self.store.apply_config(&self.config).unwrap();
        self.rebind().await;
    }

    /// `labsync rebind` of the world's plugin, with the current configuration.
    pub async fn rebind(&mut self) {
        let gitlab = GitLabClient::new(
            &self.gitlab.url(),
            Secret::new(self.gitlab.token().to_string()),
            settings(),
        )
        .unwrap();
        let gitlab = labsync::connectors::GitLabConnector::new(gitlab);
        labsync::sync::identity::rebind(
            &self.config.plugins[0].settings(),
            &gitlab,
            &mut self.store,
        )
        .await
        .unwrap();
    }

    /// The ids of the project's incidents, in order.
    pub fn incident_ids(&self) -> Vec<u32> {
        self.spira
            .incidents(1)
            .iter()
            .map(|i| i.incident_id)
            .collect()
    }

    /// The iids of the project's issues.
    pub fn issue_iids(&self) -> Vec<u64> {
        self.gitlab
            .issues()
            .iter()
            .filter_map(|i| i["iid"].as_u64())
            .collect()
    }

    pub fn spira_user(&self, login: &str) -> u32 {
        self.spira
            .users()
            .iter()
            .find(|u| u.login == login)
            .map(|u| u.user_id)
            .unwrap()
    }

    pub fn issue_titled(&self, title: &str) -> serde_json::Value {
        let found: Vec<_> = self
            .gitlab
            .issues()
            .into_iter()
            .filter(|i| i["title"] == title)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one issue titled {title}: {found:#?}"
        );
        found.into_iter().next().unwrap()
    }

    pub fn incident_named(&self, name: &str) -> labsync_sim::spira::SimIncident {
        let found: Vec<_> = self
            .spira
            .incidents(1)
            .into_iter()
            .filter(|i| i.name == name)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one incident named {name}: {found:#?}"
        );
        found.into_iter().next().unwrap()
    }

    /// A GitLab client acting as another user, as a developer would.
    /// Puts issue `iid` in milestone `title` as `username` would in GitLab's
    /// UI: the milestone is created, then set on the issue.
    pub async fn set_milestone_as(&self, username: &str, iid: u64, title: &str) {
        use labsync::gitlab::{IssueEdit, NewMilestone, ProjectRef};
        let dev = self.gitlab_as(username);
        let project = ProjectRef::parse(self.gitlab.project_path());
        let milestone = dev
            .create_milestone(
                &project,
                &NewMilestone {
                    title: title.into(),
                    ..NewMilestone::default()
                },
            )
            .await
            .unwrap();
        dev.edit_issue(
            &project,
            iid,
            &IssueEdit {
                milestone_id: Some(milestone.id),
                ..IssueEdit::default()
            },
        )
        .await
        .unwrap();
    }

    pub fn gitlab_as(&self, username: &str) -> GitLabClient {
        let token = self.gitlab.add_token(username, &["api"], None);
        GitLabClient::new(&self.gitlab.url(), Secret::new(token), settings()).unwrap()
    }

    pub fn spira_client(&self) -> SpiraClient {
        SpiraClient::new(
            &self.spira.url(),
            self.spira.login().to_string(),
            Secret::new(self.spira.api_key()),
            settings(),
        )
        .unwrap()
    }

    pub fn gitlab_user_id(&self, username: &str) -> u64 {
        self.gitlab.user_id(username).unwrap()
    }

    pub fn conflict_events(&self) -> i64 {
        let conn = rusqlite::Connection::open(self.store.path()).unwrap();
        conn.query_row("SELECT count(*) FROM events WHERE conflict = 1", [], |r| {
            r.get(0)
        })
        .unwrap()
    }
}

/// The `k`-th item of `items`, wrapping around; none of none.
pub fn pick<T: Copy>(items: &[T], k: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[k % items.len()])
}

/// Spira status id → GitLab state, as the test configuration maps them.
pub fn state_of(status: u32) -> &'static str {
    match status {
        1..=3 | 8 => "opened",
        _ => "closed",
    }
}

/// Spira priority id → label, as the test configuration maps them.
pub fn label_of(priority: Option<u32>) -> Option<&'static str> {
    match priority {
        Some(1) => Some("priority::critical"),
        Some(2) => Some("priority::high"),
        Some(3) => Some("priority::medium"),
        Some(4) => Some("priority::low"),
        _ => None,
    }
}

impl World {
    /// Both sides hold the same items under the mappings: one issue per
    /// incident and back, equal titles, states, priorities, and every comment
    /// once on each side. Panics with what differs.
    pub fn assert_converged(&self) {
        let issues = self.gitlab.issues();
        let incidents = self.spira.incidents(1);
        assert_eq!(
            issues.len(),
            incidents.len(),
            "one issue per incident:\nissues {:#?}\nincidents {incidents:#?}",
            titles(&issues)
        );
        let mut seen_iids = std::collections::HashSet::new();
        for incident in &incidents {
            let reference = incident
                .custom
                .get(&1)
                .and_then(|v| v.as_str())
                .unwrap_or_else(|| panic!("incident {} has no GitLab mark", incident.incident_id));
            let iid: u64 = reference
                .rsplit('#')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap();
            assert!(seen_iids.insert(iid), "two incidents name issue #{iid}");
            let issue = issues
                .iter()
                .find(|i| i["iid"] == iid)
                .unwrap_or_else(|| panic!("issue #{iid} missing"));
            let ctx = format!("IN:{} ↔ #{iid}", incident.incident_id);
            assert_eq!(issue["title"].as_str().unwrap(), incident.name, "{ctx}");
            assert_eq!(
                issue["state"].as_str().unwrap(),
                state_of(incident.incident_status_id),
                "{ctx}"
            );
            let managed: Vec<&str> = issue["labels"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|l| l.as_str())
                .filter(|l| l.starts_with("priority::"))
                .collect();
            assert_eq!(
                managed,
                label_of(incident.priority_id)
                    .into_iter()
                    .collect::<Vec<_>>(),
                "{ctx}"
            );
            let desc = issue["description"].as_str().unwrap_or("");
            assert_eq!(
                desc.matches("labsync:incident=").count(),
                1,
                "{ctx}: one footer"
            );
            // Comments: each original once on its own side and once copied.
            let notes: Vec<String> = self
                .gitlab
                .notes(iid)
                .iter()
                .filter(|n| n["system"] == false)
                .map(|n| n["body"].as_str().unwrap_or("").to_string())
                .collect();
            let comments: Vec<String> = self
                .spira
                .comments(incident.incident_id)
                .iter()
                .map(|c| c.text.clone())
                .collect();
            for n in notes.iter().filter(|n| !n.contains("labsync:comment=")) {
                let body = n.trim();
                let copies = comments.iter().filter(|c| holds(c, body)).count();
                assert_eq!(
                    copies, 1,
                    "{ctx}: note {body:?} copied {copies} times: {comments:#?}"
                );
            }
            for c in comments.iter().filter(|c| !c.contains("labsync:note=")) {
                let text = c.trim_start_matches("<p>").trim_end_matches("</p>");
                let copies = notes.iter().filter(|n| holds(n, text)).count();
                assert_eq!(
                    copies, 1,
                    "{ctx}: comment {text:?} copied {copies} times: {notes:#?}"
                );
            }
        }
    }
}

/// `text` occurs in `copy` as a whole: "comment 4" is not held by a copy of
/// "comment 45" (a substring match counted that as a duplicate).
fn holds(copy: &str, text: &str) -> bool {
    copy.match_indices(text).any(|(at, _)| {
        !copy[at + text.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric())
    })
}

fn titles(issues: &[serde_json::Value]) -> Vec<String> {
    issues
        .iter()
        .map(|i| format!("#{} {}", i["iid"], i["title"]))
        .collect()
}

/// The world's configuration as a file, for running the real binary.
pub fn config_path(w: &World) -> std::path::PathBuf {
    w.dir.path().join("plugins.toml")
}

/// What the labsync binary printed and how it exited.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl World {
    /// Runs the labsync binary on this world's configuration and database,
    /// off the runtime's thread so that the simulators keep serving.
    pub async fn labsync(&self, args: &[&str]) -> Output {
        self.labsync_with(&config_path(self), self.store.path(), args)
            .await
    }

    /// The same with another configuration file and database (another install).
    pub async fn labsync_with(
        &self,
        config: &std::path::Path,
        db: &std::path::Path,
        args: &[&str],
    ) -> Output {
        let mut cmd = crate::labsync_command();
        cmd.arg("--config")
            .arg(config)
            .arg("--db")
            .arg(db)
            .args(args);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl World {
    /// Adds a line to the project table of plugins.toml (the file only;
    /// the binary loads it, [`World::reload_config`] loads it here).
    pub fn append_to_project(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
        std::fs::write(config_path(self), &self.text).unwrap();
    }

    /// Loads plugins.toml again, as a restart or SIGHUP would.
    pub fn reload_config(&mut self) {
        self.config = Config::from_str(std::path::Path::new("plugins.toml"), &self.text).unwrap();
        self.store.apply_config(&self.config).unwrap();
    }
}
