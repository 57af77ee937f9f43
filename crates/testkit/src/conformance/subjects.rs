//! The subjects the suites run against: the in-memory fakes, the
//! simulators through the real adapters, and real servers named by the
//! environment (see the README, "Testing"):
//!
//! - `LABSYNC_CONFORMANCE_SPIRA_URL`, `_LOGIN`, `_API_KEY`, `_PROJECT`
//!   (a project id; its template needs the "GitLab Issue" text property);
//! - `LABSYNC_CONFORMANCE_GITLAB_URL`, `_TOKEN`, `_PROJECT` (a path; the
//!   token's user must be a member, Developer or more); optionally
//!   `_MOVE_TO` (a second project's path, to move items to) and
//!   `_OUTSIDER` (the username of someone who is no member of the private
//!   project: its items cannot be assigned to them).
//!
//! The suites create items (and labels, milestones, releases) there and
//! leave them. Without the variables a real-server test says on stderr
//! that it did not run, and passes having checked nothing.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use labsync::connectors::{GitLabConnector, NewReleases, SpiraConnector};
use labsync::gitlab::GitLabClient;
use labsync::http::HttpSettings;
use labsync::secret::Secret;
use labsync::spira::SpiraClient;
use labsync_sim::Seed;
use labsync_sim::gitlab::{GitLabSim, GitLabSimConfig};
use labsync_sim::spira::{SpiraSim, SpiraSimConfig};

use futures_util::FutureExt;
use labsync::gitlab::ProjectRef;

use super::subject::{Mover, WorkItemMaker};
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
fn spira(url: &str, login: &str, key: &str) -> SpiraConnector {
    let client = SpiraClient::new(url, login.to_string(), Secret::new(key), settings()).unwrap();
    SpiraConnector::new(
        client.with_page_size(SPIRA_PAGE as u32),
        url,
        NewReleases::default(),
    )
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
    let shared = tm.clone();
    let subject = TmSubject::new(
        Box::new(tm),
        1,
        clock,
        SPIRA_PAGE,
        Box::new(refused),
        Box::new(()),
    );
    Some(subject.with_status_switch(move |on| shared.set_api_can_change_status(on)))
}

/// Spira's simulator, through the Spira connector.
pub async fn spira_simulator() -> Option<TmSubject> {
    let cfg = SpiraSimConfig {
        seed: Seed::Empty,
        ..SpiraSimConfig::default()
    };
    let sim = Arc::new(SpiraSim::start(cfg).await.unwrap());
    let tm = spira(&sim.url(), sim.login(), sim.api_key());
    let refused = refused_spira(&sim.url());
    let (project, clock) = (i64::from(sim.project_id()), Clock::Sim(sim.clock().clone()));
    let hooks = sim.clone();
    let subject = TmSubject::new(
        Box::new(tm),
        project,
        clock,
        SPIRA_PAGE,
        Box::new(refused),
        Box::new(sim),
    );
    Some(subject.with_status_switch(move |on| hooks.set_bulk_edit_can_change_status(on)))
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
    let (mover, maker) = (tracker.clone(), tracker.clone());
    let subject = TrackerSubject::new(
        Box::new(tracker),
        MemoryIssueTracker::PROJECT,
        Clock::Memory(clock),
        MEMORY_TRACKER_PAGE,
        Box::new(revoked),
        MemoryIssueTracker::ME,
        Box::new(()),
    );
    let to = "demo/archive";
    Some(
        subject
            .with_delete(move |iid| shared.delete(iid))
            .with_mover(Box::new(move |iid| {
                let moved = mover.move_item(iid, to).map(|n| (to.to_string(), n));
                async move { moved }.boxed()
            }))
            .with_work_items(Box::new(move |title, kind| {
                let made = maker.create_work_item_as("alice", &title, "", kind);
                async move { made }.boxed()
            }))
            .with_outsider("mallory"),
    )
}

/// `project` as a path segment of GitLab's API (`:id` is the id or the
/// URL-encoded path: gitlab-api.md §1).
fn encoded(project: &str) -> String {
    project.replace('/', "%2F")
}

/// Moves item `iid` of `project` to project `to` as the token's user
/// (`POST /projects/:id/issues/:iid/move`, gitlab-org/gitlab
/// `lib/api/issues.rb`): its number there.
async fn move_by_api(
    base: String,
    token: String,
    project: String,
    iid: u64,
    to: u64,
) -> Option<u64> {
    let answer = reqwest::Client::new()
        .post(format!(
            "{base}/api/v4/projects/{}/issues/{iid}/move",
            encoded(&project)
        ))
        .header("PRIVATE-TOKEN", token)
        .json(&serde_json::json!({ "to_project_id": to }))
        .send()
        .await
        .ok()?;
    let issue: serde_json::Value = answer.error_for_status().ok()?.json().await.ok()?;
    issue["iid"].as_u64()
}

/// Opens a work item of `kind` in `project` (`POST /projects/:id/issues`
/// with `issue_type`, `lib/api/issues.rb`): its number, or `None` when the
/// server does not make that type this way (which types it does varies by
/// version: `WorkItems::Type.allowed_types_for_issues`).
async fn work_item_by_api(
    base: String,
    token: String,
    project: String,
    title: String,
    kind: &'static str,
) -> Option<u64> {
    let answer = reqwest::Client::new()
        .post(format!(
            "{base}/api/v4/projects/{}/issues",
            encoded(&project)
        ))
        .header("PRIVATE-TOKEN", token)
        .json(&serde_json::json!({ "title": title, "issue_type": kind }))
        .send()
        .await
        .ok()?;
    let issue: serde_json::Value = answer.error_for_status().ok()?.json().await.ok()?;
    (issue["issue_type"] == kind).then(|| issue["iid"].as_u64())?
}

/// A mover to the project `to` (`to_path` its path) of the server at `base`.
fn api_mover(base: &str, token: &str, project: &str, to: u64, to_path: &str) -> Mover {
    let (base, token, project, to_path) = (
        base.to_string(),
        token.to_string(),
        project.to_string(),
        to_path.to_string(),
    );
    Box::new(move |iid| {
        let (base, token, project, to_path) = (
            base.clone(),
            token.clone(),
            project.clone(),
            to_path.clone(),
        );
        async move {
            let moved = move_by_api(base, token, project, iid, to).await?;
            Some((to_path, moved))
        }
        .boxed()
    })
}

fn api_work_items(base: &str, token: &str, project: &str) -> WorkItemMaker {
    let (base, token, project) = (base.to_string(), token.to_string(), project.to_string());
    Box::new(move |title, kind| {
        work_item_by_api(base.clone(), token.clone(), project.clone(), title, kind).boxed()
    })
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
    // In the project's namespace: GitLab's "moved to" note then names it
    // by its path alone (`Project#to_reference_base`).
    let archive = "demo/archive";
    let to = sim.add_project(archive);
    sim.add_user("mallory", "Mallory Outsider", "mallory@example.com");
    let mover = api_mover(&sim.url(), sim.token(), &path, to, archive);
    let work_items = api_work_items(&sim.url(), sim.token(), &path);
    let subject = TrackerSubject::new(
        Box::new(tracker),
        &path,
        clock,
        GITLAB_PAGE,
        Box::new(revoked),
        "labsync-bot",
        Box::new(sim),
    );
    Some(
        subject
            .with_delete(move |iid| hooks.delete_issue(iid))
            .with_mover(mover)
            .with_work_items(work_items)
            .with_outsider("mallory"),
    )
}

/// The GitLab server the environment names, through the GitLab connector.
pub async fn gitlab_server() -> Option<TrackerSubject> {
    let v = env("GitLab", &["URL", "TOKEN", "PROJECT"])?;
    let client = GitLabClient::new(&v[0], Secret::new(v[1].as_str()), settings()).unwrap();
    let me = client.current_user().await.unwrap().username;
    let revoked = gitlab(&v[0], "glpat-revoked-conformance-token");
    let mut subject = TrackerSubject::new(
        Box::new(GitLabConnector::new(client.clone())),
        &v[2],
        Clock::Wall,
        GITLAB_PAGE,
        Box::new(revoked),
        &me,
        Box::new(()),
    )
    .with_work_items(api_work_items(&v[0], &v[1], &v[2]));
    if let Ok(to_path) = std::env::var("LABSYNC_CONFORMANCE_GITLAB_MOVE_TO") {
        let to = client.project(&ProjectRef::parse(&to_path)).await.unwrap();
        subject = subject.with_mover(api_mover(
            &v[0],
            &v[1],
            &v[2],
            to.id,
            &to.path_with_namespace,
        ));
    }
    if let Ok(outsider) = std::env::var("LABSYNC_CONFORMANCE_GITLAB_OUTSIDER") {
        subject = subject.with_outsider(&outsider);
    }
    Some(subject)
}
