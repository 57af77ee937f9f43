//! Helpers shared by the command-line tests: run the real binary in a
//! scratch directory and capture what a user would see.

use std::path::{Path, PathBuf};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

impl Scratch {
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// The scratch database holding `config`'s rows, as a first cycle
    /// leaves it (commands that only read refuse a missing database).
    pub fn init_db(&self, config: &Path) {
        let config = labsync::config::Config::load(config).unwrap();
        let mut store = labsync::store::Store::open(&self.path("labsync.db")).unwrap();
        store.apply_config(&config).unwrap();
    }

    /// Runs `labsync` with the scratch database and the given config.
    pub fn labsync(&self, config: &Path, args: &[&str]) -> Run {
        self.labsync_env(config, args, &[])
    }

    pub fn labsync_env(&self, config: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = crate::labsync_command();
        cmd.arg("--config")
            .arg(config)
            .arg("--db")
            .arg(self.path("labsync.db"));
        cmd.args(args);
        cmd.env("TEST_TOKEN", "glpat-test-token-value")
            .env("TEST_KEY", "{TEST-API-KEY}");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A valid one-plugin configuration; tests edit it to break one thing.
pub const VALID: &str = r#"
http_timeout = "30s"

[[plugins]]
name = "webshop"
schedule = "5m"
time_offset = "2m"
conflict = "newest"
direction = "both"

[plugins.spira]
base_url = "https://spira.example.com"
login = "labsync"
api_key_env = "TEST_KEY"

[plugins.gitlab]
base_url = "https://gitlab.example.com"
token_env = "TEST_TOKEN"

[[plugins.projects]]
spira_project = 1
gitlab_project = "qa/webshop"
statuses = [
  { spira = "New", gitlab = "opened", primary = true },
  { spira = "Open", gitlab = "opened" },
  { spira = "Resolved", gitlab = "closed" },
  { spira = "Closed", gitlab = "closed", primary = true },
]
priorities = [
  { spira = "1 - Critical", gitlab = "priority::critical" },
  { spira = "2 - High", gitlab = "priority::high" },
]
users = [ { spira = "alice", gitlab = "alice" } ]
releases = [ { spira = "1.0", gitlab = "Release 1.0" } ]
"#;

/// Replaces `from` with `to` in the valid config and runs `check --offline`
/// on it with `env` set.
pub fn check_edited(from: &str, to: &str, env: &[(&str, &str)]) -> Run {
    assert!(
        VALID.contains(from),
        "test setup: '{from}' not in the valid config"
    );
    let s = Scratch::new();
    let config = s.write("plugins.toml", &VALID.replacen(from, to, 1));
    s.labsync_env(&config, &["check", "--offline"], env)
}

/// Line of the first line of the valid config containing `needle`.
pub fn line_of(needle: &str) -> usize {
    VALID.lines().position(|l| l.contains(needle)).unwrap() + 1
}

pub fn assert_one_error(run: &Run, parts: &[&str]) {
    assert_eq!(
        run.code, 2,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("labsync: error:"))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "expected one error line, got:\n{}",
        run.stderr
    );
    for part in parts {
        assert!(
            errors[0].contains(part),
            "error line lacks '{part}':\n{}",
            errors[0]
        );
    }
}
