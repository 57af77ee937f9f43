//! The subjects the suites run against: the in-memory fakes, the
//! simulators through the real adapters, and real servers named by the
//! environment (see the README, "Testing"):
//!
//! - `LABSYNC_CONFORMANCE_SPIRA_URL`, `_LOGIN`, `_API_KEY`, `_PROJECT`
//!   (a project id; its template needs the "GitLab Issue" text property);
//! - `LABSYNC_CONFORMANCE_GITLAB_URL`, `_TOKEN`, `_PROJECT` (a path; the
//!   token's user must be a member, Developer or more).
//!
//! The suites create items (and labels, milestones, releases) there and
//! leave them. Without the variables a real-server test says on stderr
//! that it did not run, and passes having checked nothing.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use labsync::config::{Config, Plugin};
use labsync::connectors::{GitLabConnector, SpiraConnector};
use labsync::gitlab::GitLabClient;
use labsync::http::HttpSettings;
use labsync::secret::Secret;
use labsync::spira::SpiraClient;
use labsync_sim::Seed;
use labsync_sim::gitlab::{GitLabSim, GitLabSimConfig};
use labsync_sim::spira::{SpiraSim, SpiraSimConfig};

use super::{Clock, TmSubject, TrackerSubject};
use crate::memory::{MemoryClock, MemoryIssueTracker, MemoryTestManagement};

/// Rows a Spira listing page holds in the suites: small, so that a few
/// items span pages.
const SPIRA_PAGE: usize = 3;
/// GitLab's client always asks 100 a page.
const GITLAB_PAGE: usize = 100;
/// The fake tracker's pages: small, so that a few items span pages.
const MEMORY_TRACKER_PAGE: usize = 3;

/// Says once per server on stderr (past the test harness's capture, so it
/// shows in the output of a passing test) that its suite did not run.
fn not_run(server: &str, vars: &str) {
    static SAID: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut said = SAID.lock().unwrap_or_else(PoisonError::into_inner);
    if !said.iter().any(|s| s == server) {
        said.push(server.to_string());
        let _ = writeln!(
            std::io::stderr(),
            "conformance against a real {server}: NOT RUN (set {vars} to run it)"
        );
    }
}

/// Says that one behaviour was not checked against this subject, and why.
pub fn not_checked(subject: &str, why: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "conformance ({subject}): not checked: {why}"
    );
}

/// The variables `LABSYNC_CONFORMANCE_{server}_{name}`, all or none.
fn env(server: &str, names: &[&str]) -> Option<Vec<String>> {
    let prefix = server.to_uppercase();
    let keys: Vec<String> = names
        .iter()
        .map(|n| format!("LABSYNC_CONFORMANCE_{prefix}_{n}"))
        .collect();
    let values: Vec<Option<String>> = keys.iter().map(|k| std::env::var(k).ok()).collect();
    if values.iter().all(Option::is_none) {
        not_run(server, &keys.join(", "));
        return None;
    }
    let missing: Vec<&String> = keys
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k)
        .collect();
    assert!(
        missing.is_empty(),
        "conformance against a real {server}: set {missing:?} too"
    );
    Some(values.into_iter().flatten().collect())
}

fn settings() -> HttpSettings {
    HttpSettings {
        timeout: Duration::from_secs(30),
        max_retries: 3,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(50),
        ..HttpSettings::default()
    }
}

/// A plugin for the Spira connector at `url` (the connector takes the web
/// interface's address and the release defaults from it).
fn plugin(url: &str) -> Plugin {
    let text = format!(
        r#"
[[plugins]]
name = "conformance"
[plugins.spira]
base_url = "{url}"
login = "conformance"
api_key = "{{00000000-0000-0000-0000-000000000000}}"
[plugins.gitlab]
base_url = "https://gitlab.invalid"
token = "glpat-conformance"
[[plugins.projects]]
spira_project = 1
gitlab_project = "conformance/project"
statuses = [
  {{ spira = "New", gitlab = "opened", primary = true }},
  {{ spira = "Closed", gitlab = "closed", primary = true }},
]
"#
    );
    let config = Config::from_str(Path::new("conformance.toml"), &text).unwrap();
    config.plugins[0].clone()
}

fn spira(url: &str, login: &str, key: &str) -> SpiraConnector {
    let client = SpiraClient::new(url, login.to_string(), Secret::new(key), settings()).unwrap();
    SpiraConnector::new(client.with_page_size(SPIRA_PAGE as u32), &plugin(url))
}

fn gitlab(url: &str, token: &str) -> GitLabConnector {
    GitLabConnector::new(GitLabClient::new(url, Secret::new(token), settings()).unwrap())
}

/// A connector whose login Spira does not know: never a real user's login
/// with a wrong key, since Spira locks a user after failed attempts
/// (spira-api.md §1).
fn refused_spira(url: &str) -> SpiraConnector {
    spira(
        url,
        "labsync-conformance-nobody",
        "{00000000-0000-0000-0000-000000000000}",
    )
}

pub async fn memory_test_management() -> Option<TmSubject> {
    let clock = MemoryClock::default();
    let tm = MemoryTestManagement::new(clock.clone()).with_page_size(SPIRA_PAGE);
    let refused = MemoryTestManagement::new(clock.clone());
    refused.refuse_credentials();
    let clock = Clock::Memory(clock);
    Some(TmSubject::new(
        Box::new(tm),
        1,
        clock,
        SPIRA_PAGE,
        Box::new(refused),
        Box::new(()),
    ))
}

/// Spira's simulator, through the Spira connector.
pub async fn spira_simulator() -> Option<TmSubject> {
    let cfg = SpiraSimConfig {
        seed: Seed::Empty,
        ..SpiraSimConfig::default()
    };
    let sim = SpiraSim::start(cfg).await.unwrap();
    let tm = spira(&sim.url(), sim.login(), sim.api_key());
    let refused = refused_spira(&sim.url());
    let (project, clock) = (i64::from(sim.project_id()), Clock::Sim(sim.clock().clone()));
    Some(TmSubject::new(
        Box::new(tm),
        project,
        clock,
        SPIRA_PAGE,
        Box::new(refused),
        Box::new(sim),
    ))
}

/// The Spira server the environment names, through the Spira connector.
pub async fn spira_server() -> Option<TmSubject> {
    let v = env("Spira", &["URL", "LOGIN", "API_KEY", "PROJECT"])?;
    let project: i64 = v[3]
        .parse()
        .expect("LABSYNC_CONFORMANCE_SPIRA_PROJECT is a project id");
    let tm = spira(&v[0], &v[1], &v[2]);
    let refused = refused_spira(&v[0]);
    Some(TmSubject::new(
        Box::new(tm),
        project,
        Clock::Wall,
        SPIRA_PAGE,
        Box::new(refused),
        Box::new(()),
    ))
}

pub async fn memory_issue_tracker() -> Option<TrackerSubject> {
    let clock = MemoryClock::default();
    let tracker = MemoryIssueTracker::new(clock.clone()).with_page_size(MEMORY_TRACKER_PAGE);
    let revoked = MemoryIssueTracker::new(clock.clone());
    revoked.revoke_token();
    let shared = tracker.clone();
    let subject = TrackerSubject::new(
        Box::new(tracker),
        MemoryIssueTracker::PROJECT,
        Clock::Memory(clock),
        MEMORY_TRACKER_PAGE,
        Box::new(revoked),
        MemoryIssueTracker::ME,
        Box::new(()),
    );
    Some(subject.with_delete(move |iid| shared.delete(iid)))
}

/// GitLab's simulator, through the GitLab connector.
pub async fn gitlab_simulator() -> Option<TrackerSubject> {
    let cfg = GitLabSimConfig {
        seed: Seed::Empty,
        ..GitLabSimConfig::default()
    };
    let sim = Arc::new(GitLabSim::start(cfg).await.unwrap());
    let tracker = gitlab(&sim.url(), sim.token());
    let revoked = gitlab(&sim.url(), "glpat-revoked-conformance-token");
    let clock = Clock::Sim(sim.clock().clone());
    let (hooks, path) = (sim.clone(), sim.project_path().to_string());
    let subject = TrackerSubject::new(
        Box::new(tracker),
        &path,
        clock,
        GITLAB_PAGE,
        Box::new(revoked),
        "labsync-bot",
        Box::new(sim),
    );
    Some(subject.with_delete(move |iid| hooks.delete_issue(iid)))
}

/// The GitLab server the environment names, through the GitLab connector.
pub async fn gitlab_server() -> Option<TrackerSubject> {
    let v = env("GitLab", &["URL", "TOKEN", "PROJECT"])?;
    let client = GitLabClient::new(&v[0], Secret::new(v[1].as_str()), settings()).unwrap();
    let me = client.current_user().await.unwrap().username;
    let revoked = gitlab(&v[0], "glpat-revoked-conformance-token");
    let tracker = GitLabConnector::new(client);
    Some(TrackerSubject::new(
        Box::new(tracker),
        &v[2],
        Clock::Wall,
        GITLAB_PAGE,
        Box::new(revoked),
        &me,
        Box::new(()),
    ))
}
