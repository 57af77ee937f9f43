//! The stage the demo plays on: both simulators on loopback, a kept
//! directory with plugins.toml and labsync.db, and clients to look around.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::connectors::run_plugin;
use crate::connectors::{CycleMode, CycleOptions};
use crate::gitlab::{GitLabClient, ProjectRef};
use crate::http::HttpSettings;
use crate::secret::Secret;
use crate::sim::Seed;
use crate::sim::gitlab::{GitLabSim, GitLabSimConfig};
use crate::sim::spira::{SpiraSim, SpiraSimConfig};
use crate::store::Store;
use crate::sync::CycleReport;

use super::DemoError;

/// The plugin's name in the demo's plugins.toml.
pub const PLUGIN: &str = "demo";
/// The Spira project the demo syncs.
pub const SPIRA_PROJECT: u32 = 1;

pub struct Stage {
    pub gitlab: GitLabSim,
    pub spira: SpiraSim,
    pub store: Store,
    pub config: Config,
    pub config_path: PathBuf,
    pub db_path: PathBuf,
    /// Reads GitLab as the sync's own user, to list milestones.
    pub gitlab_client: GitLabClient,
    pub gitlab_project: ProjectRef,
}

/// Fast retries: everything is on loopback.
fn http() -> HttpSettings {
    HttpSettings {
        min_delay: std::time::Duration::from_millis(10),
        max_delay: std::time::Duration::from_millis(200),
        ..HttpSettings::default()
    }
}

/// The directory to keep: `dir` if given (created when missing), else a new
/// `labsync-demo-<timestamp>` under the system's temporary directory.
pub fn choose_dir(dir: Option<&Path>) -> Result<PathBuf, DemoError> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => {
            let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
            std::env::temp_dir().join(format!("labsync-demo-{stamp}-{}", std::process::id()))
        }
    };
    std::fs::create_dir_all(&dir).map_err(|source| DemoError::Io {
        what: format!("cannot create directory {}", dir.display()),
        source,
    })?;
    // Absolute, so that the printed commands work from any directory.
    let dir = std::fs::canonicalize(&dir).map_err(|source| DemoError::Io {
        what: format!("cannot resolve directory {}", dir.display()),
        source,
    })?;
    for name in ["plugins.toml", "labsync.db"] {
        if dir.join(name).exists() {
            return Err(DemoError::Setup(format!(
                "{} already holds a {name} from an earlier run; give an empty directory with --dir",
                dir.display()
            )));
        }
    }
    Ok(dir)
}

impl Stage {
    /// Starts both simulators with the demo data and writes the config.
    pub async fn start(dir: &Path) -> Result<Stage, DemoError> {
        let gitlab = GitLabSim::start(GitLabSimConfig {
            seed: Seed::Demo,
            ..GitLabSimConfig::default()
        })
        .await
        .map_err(|source| DemoError::Io {
            what: "the GitLab simulator cannot listen on 127.0.0.1".into(),
            source,
        })?;
        let spira = SpiraSim::start(SpiraSimConfig {
            seed: Seed::Demo,
            ..SpiraSimConfig::default()
        })
        .await
        .map_err(|source| DemoError::Io {
            what: "the Spira simulator cannot listen on 127.0.0.1".into(),
            source,
        })?;
        let config_path = dir.join("plugins.toml");
        let db_path = dir.join("labsync.db");
        let text = config_text(&gitlab, &spira, &db_path);
        std::fs::write(&config_path, text).map_err(|source| DemoError::Io {
            what: format!("cannot write {}", config_path.display()),
            source,
        })?;
        let config = Config::load(&config_path).map_err(|e| DemoError::Setup(format!("{e}")))?;
        let mut store = Store::open(&db_path).map_err(|e| DemoError::Setup(e.to_string()))?;
        store
            .apply_config(&config)
            .map_err(|e| DemoError::Setup(e.to_string()))?;
        let gitlab_client = GitLabClient::new(&gitlab.url(), Secret::new(gitlab.token()), http())
            .map_err(|e| DemoError::Setup(e.to_string()))?;
        let gitlab_project = ProjectRef::parse(gitlab.project_path());
        Ok(Stage {
            gitlab,
            spira,
            store,
            config,
            config_path,
            db_path,
            gitlab_client,
            gitlab_project,
        })
    }

    /// One real cycle of the demo's plugin.
    pub async fn cycle(&mut self) -> Result<CycleReport, DemoError> {
        let plugin = self
            .config
            .plugin(PLUGIN)
            .ok_or_else(|| DemoError::Setup(format!("plugins.toml lost plugin '{PLUGIN}'")))?;
        let options = CycleOptions {
            trigger: "demo",
            mode: CycleMode::Sync,
            http: http(),
            stop: None,
            progress: None,
        };
        Ok(run_plugin(plugin, &mut self.store, &options).await)
    }

    /// Time passes on both servers.
    pub fn advance(&self, by: chrono::Duration) {
        self.gitlab.clock().advance(by);
        self.spira.clock().advance(by);
    }

    pub async fn shutdown(self) {
        self.gitlab.shutdown().await;
        self.spira.shutdown().await;
    }
}

/// plugins.toml for the simulators: statuses, priorities and releases
/// mapped, users auto-mapped (email, login, full name).
fn config_text(gitlab: &GitLabSim, spira: &SpiraSim, db: &Path) -> String {
    let plugin = crate::sim::config::plugin_toml(
        PLUGIN,
        gitlab,
        spira,
        r#"caption = "Demo: simulated Spira ⇄ simulated GitLab"
schedule = "5m"
time_offset = "2m"
conflict = "newest"
auto_map_users = true
direction = "both""#,
    );
    format!(
        r#"# Written by `labsync demo` for its simulators, which have stopped since:
# the addresses below are gone, and the token and api key are the
# simulators' throw-away ones. Start simulators again with `labsync sim`.
database = {db}
{plugin}releases = [
  {{ spira = "1.0", gitlab = "Release 1.0" }},
]
"#,
        db = toml::Value::String(db.display().to_string()),
    )
}
