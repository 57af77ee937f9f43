//! Both simulators, a database and a plugin between them: the world the
//! engine tests act in.

#![allow(dead_code)]

use labsync::config::Config;
use labsync::gitlab::GitLabClient;
use labsync::http::HttpSettings;
use labsync::secret::Secret;
use labsync::sim::Seed;
use labsync::sim::gitlab::{GitLabSim, GitLabSimConfig};
use labsync::sim::spira::{SpiraSim, SpiraSimConfig};
use labsync::spira::SpiraClient;
use labsync::store::Store;
use labsync::sync::{CycleOptions, CycleReport, run_plugin};

pub struct World {
    pub gitlab: GitLabSim,
    pub spira: SpiraSim,
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub config: Config,
    /// The plugins.toml text `config` was read from.
    pub text: String,
}

pub fn settings() -> HttpSettings {
    HttpSettings {
        min_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(50),
        ..HttpSettings::default()
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
        let gitlab = GitLabSim::start(GitLabSimConfig {
            seed: Seed::Empty,
            ..Default::default()
        })
        .await
        .unwrap();
        let spira = SpiraSim::start(spira).await.unwrap();
        let text = format!(
            r#"
[[plugins]]
name = "t"
{extra}

[plugins.spira]
base_url = "{spira_url}"
login = "{login}"
api_key = "{key}"

[plugins.gitlab]
base_url = "{gitlab_url}"
token = "{token}"

[[plugins.projects]]
spira_project = 1
gitlab_project = "{path}"
statuses = [
  {{ spira = "New", gitlab = "opened", primary = true }},
  {{ spira = "Open", gitlab = "opened" }},
  {{ spira = "Assigned", gitlab = "opened" }},
  {{ spira = "Reopen", gitlab = "opened" }},
  {{ spira = "Resolved", gitlab = "closed" }},
  {{ spira = "Closed", gitlab = "closed", primary = true }},
  {{ spira = "Not Reproducible", gitlab = "closed" }},
  {{ spira = "Duplicate", gitlab = "closed" }},
]
priorities = [
  {{ spira = "1 - Critical", gitlab = "priority::critical" }},
  {{ spira = "2 - High", gitlab = "priority::high" }},
  {{ spira = "3 - Medium", gitlab = "priority::medium" }},
  {{ spira = "4 - Low", gitlab = "priority::low" }},
]
"#,
            spira_url = spira.url(),
            login = spira.login(),
            key = spira.api_key(),
            gitlab_url = gitlab.url(),
            token = gitlab.token(),
            path = gitlab.project_path(),
        );
        let config = Config::from_str(std::path::Path::new("plugins.toml"), &text).unwrap();
        let dir = tempfile::tempdir().unwrap();
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
        let opts = CycleOptions {
            trigger: "sync-now",
            dry_run: false,
            http: settings(),
            stop: None,
        };
        let report = run_plugin(&self.config.plugins[0], &mut self.store, &opts).await;
        for p in &report.projects {
            assert!(p.fatal.is_none(), "cycle failed: {:?}", p.fatal);
        }
        report
    }

    pub async fn plan(&mut self) -> CycleReport {
        let opts = CycleOptions {
            trigger: "sync-now",
            dry_run: true,
            http: settings(),
            stop: None,
        };
        run_plugin(&self.config.plugins[0], &mut self.store, &opts).await
    }

    /// Moves both servers' clocks, as time passing would.
    pub fn advance(&self, by: chrono::Duration) {
        self.gitlab.clock().advance(by);
        self.spira.clock().advance(by);
    }

    /// Starts over with an empty database, as after losing the file.
    pub fn forget_database(&mut self) {
        let path = self.dir.path().join("labsync-new.db");
        self.store = Store::open(&path).unwrap();
        self.store.apply_config(&self.config).unwrap();
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

    pub fn incident_named(&self, name: &str) -> labsync::sim::spira::SimIncident {
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
