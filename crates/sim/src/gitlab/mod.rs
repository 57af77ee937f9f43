//! Simulator of GitLab REST v4, faithful to ../shared/reference/gitlab-api.md:
//! the shapes, headers and quirks a real client meets (pagination headers,
//! inclusive date bounds, ThrottledTouch, scoped labels per tier, error
//! bodies, Rack::Attack throttling). In memory, on a loopback port.
//!
//! Layout: `state` (data and domain rules), `render` (JSON entities),
//! `params`/`reply`/`pagination` (HTTP conventions), `guard` (auth, throttle,
//! counting), `routes/*` (one file per resource), `seed`.

mod app;
mod guard;
mod moves;
mod pagination;
mod params;
mod quick_actions;
mod render;
mod reply;
mod routes;
mod search;
mod seed;
mod state;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::middleware::from_fn_with_state;
use chrono::{DateTime, NaiveDate, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use self::app::AppState;
use self::guard::{Counter, GuardState, Throttle};
use self::render::Render;
use self::state::Store;
use crate::Seed;
use crate::faults::{self, FaultRule, Faults, SimClock};

pub use self::state::{DEVELOPER, GUEST, MAINTAINER, OWNER, REPORTER};

/// How to start the simulator.
#[derive(Clone, Debug)]
pub struct GitLabSimConfig {
    pub addr: SocketAddr,
    pub seed: Seed,
    /// The main token; a random `glpat-…` when `None`.
    pub token: Option<String>,
    /// Requests per `rate_window` per token; no throttle when `None`.
    pub rate_limit_per_minute: Option<u32>,
    /// Length of the throttle window: a minute, like GitLab; tests shorten it
    /// (whole seconds, since `RateLimit-Reset` is an epoch in seconds).
    pub rate_window: Duration,
    /// Issue and note creations per `rate_window` per user (GitLab.com: 200
    /// issues and 60 notes a minute), answered with the application
    /// limiter's JSON 429; no limit when `None`.
    pub create_limit_per_minute: Option<u32>,
    /// Whether that limiter's 429 carries `Retry-After`. GitLab's does not
    /// on the versions whose `lib/api/helpers/rate_limiter.rb` only renders
    /// the error (`render_api_error!(…, 429)`, no header): the default.
    pub create_limit_retry_after: bool,
    pub latency: Duration,
    /// Share of requests that fail (5xx, dropped, 429), for blanket fault runs.
    pub fault_rate: f64,
    /// Premium and up: scoped labels are exclusive per key.
    pub paid_tier: bool,
    /// GitLab's 60 s throttle on `updated_at` touches.
    pub throttled_touch: bool,
    /// The plan limit `offset_pagination_limit`: an issue list asked for a
    /// page ending past it answers 405 (0: no limit). GitLab's default is
    /// 50,000; tests make it small.
    pub max_offset: usize,
}

impl Default for GitLabSimConfig {
    fn default() -> Self {
        GitLabSimConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: Seed::Demo,
            token: None,
            rate_limit_per_minute: None,
            rate_window: Duration::from_secs(60),
            create_limit_per_minute: None,
            create_limit_retry_after: false,
            latency: Duration::ZERO,
            fault_rate: 0.0,
            paid_tier: false,
            throttled_touch: true,
            max_offset: pagination::MAX_OFFSET,
        }
    }
}

/// A running simulator.
pub struct GitLabSim {
    url: String,
    token: String,
    project_id: u64,
    app: AppState,
    faults: Faults,
    counter: Counter,
    throttle: Throttle,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

fn random_token() -> String {
    let tail: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect();
    format!("glpat-{tail}")
}

impl GitLabSim {
    pub async fn start(cfg: GitLabSimConfig) -> std::io::Result<GitLabSim> {
        let clock = SimClock::new();
        let token = cfg.token.clone().unwrap_or_else(random_token);
        let mut store = Store::new(cfg.paid_tier, cfg.throttled_touch);
        store.max_offset = cfg.max_offset;
        let project_id = seed::seed(&mut store, cfg.seed, &token, app::truncate_ms(clock.now()));
        let app = AppState {
            store: Arc::new(Mutex::new(store)),
            clock: clock.clone(),
            base: Arc::new(OnceLock::new()),
        };
        let faults = Faults::new();
        faults.set_default(FaultRule {
            latency: cfg.latency,
            ..FaultRule::flaky(cfg.fault_rate)
        });
        let counter = Counter::default();
        let throttle = Throttle::new(cfg.rate_limit_per_minute, cfg.rate_window);
        let guard = GuardState {
            app: app.clone(),
            throttle: throttle.clone(),
            creates: Throttle::new(cfg.create_limit_per_minute, cfg.rate_window),
            creates_retry_after: cfg.create_limit_retry_after,
        };
        // route_layer: the last added runs first, so counting sees injected
        // faults and throttles too, and faults come before authentication.
        let router = routes::api()
            .route_layer(from_fn_with_state(guard, guard::authenticate))
            .route_layer(from_fn_with_state(faults.clone(), faults::inject))
            .route_layer(from_fn_with_state(counter.clone(), guard::count))
            .fallback(reply::route_not_found)
            .with_state(app.clone())
            .layer(from_fn_with_state(clock.clone(), faults::date_header));

        let listener = tokio::net::TcpListener::bind(cfg.addr).await?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}");
        let _ = app.base.set(url.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "GitLab simulator stopped");
            }
        });
        Ok(GitLabSim {
            url,
            token,
            project_id,
            app,
            faults,
            counter,
            throttle,
            stop: Some(stop),
            task,
        })
    }

    /// "http://127.0.0.1:PORT"; the API is under `/api/v4`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn project_path(&self) -> &str {
        seed::PROJECT_PATH
    }

    pub fn project_id(&self) -> u64 {
        self.project_id
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    pub fn clock(&self) -> &SimClock {
        &self.app.clock
    }

    /// Handled requests whose "METHOD /route/template" contains `fragment`.
    pub fn request_count(&self, route_fragment: &str) -> u64 {
        self.counter.route_count(route_fragment)
    }

    /// Every "METHOD /route/template" handled since the last reset, sorted,
    /// with its count (for benchmarks and cost reports).
    pub fn request_counts(&self) -> Vec<(String, u64)> {
        self.counter.routes()
    }

    /// Answers sent with this status, whatever the route.
    pub fn status_count(&self, status: u16) -> u64 {
        self.counter.status_count(status)
    }

    pub fn reset_counts(&self) {
        self.counter.reset();
    }

    /// Changes the authenticated-API throttle while running, as an admin
    /// can in GitLab's admin area: `limit` requests per `window` per token
    /// (as [`GitLabSimConfig::rate_limit_per_minute`] and `rate_window`),
    /// or none. Counting starts again with the next request.
    pub fn set_rate_limit(&self, limit: Option<u32>, window: Duration) {
        self.throttle.set(limit, window);
    }

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    // ---- test helpers: act on the state as a person would in the web UI ----

    /// A new user (not a project member); returns its id.
    pub fn add_user(&self, username: &str, name: &str, email: &str) -> u64 {
        let mut store = self.app.lock();
        let id = store.next_id();
        store.users.push(state::User {
            id,
            username: username.into(),
            name: name.into(),
            email: email.into(),
            bot: false,
            admin: false,
            created_at: self.app.now(),
        });
        id
    }

    /// Sets (or with 0, removes) a user's access level in the project.
    pub fn set_member(&self, username: &str, access_level: u32) {
        let mut store = self.app.lock();
        let uid = seed::user_id(&store, username);
        let project = self.project_id;
        if let Some(p) = store.project_mut(project) {
            if access_level == 0 {
                p.members.remove(&uid);
            } else {
                p.members.insert(uid, access_level);
            }
        }
    }

    /// Makes a user an instance administrator (or not).
    pub fn set_admin(&self, username: &str, admin: bool) {
        let mut store = self.app.lock();
        let uid = seed::user_id(&store, username);
        for u in store.users.iter_mut().filter(|u| u.id == uid) {
            u.admin = admin;
        }
    }

    /// The id of a user, by username.
    pub fn user_id(&self, username: &str) -> Option<u64> {
        let store = self.app.lock();
        store
            .users
            .iter()
            .find(|u| u.username == username)
            .map(|u| u.id)
    }

    /// A new personal access token of `username`; returns its value.
    pub fn add_token(
        &self,
        username: &str,
        scopes: &[&str],
        expires_at: Option<NaiveDate>,
    ) -> String {
        let value = random_token();
        let mut store = self.app.lock();
        let user_id = seed::user_id(&store, username);
        let id = store.next_id();
        store.tokens.push(state::Token {
            id,
            name: format!("{username} token"),
            value: value.clone(),
            user_id,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            expires_at,
            revoked: false,
            created_at: self.app.now(),
            last_used_at: None,
        });
        value
    }

    pub fn revoke_token(&self, value: &str) {
        let mut store = self.app.lock();
        for t in store.tokens.iter_mut().filter(|t| t.value == value) {
            t.revoked = true;
        }
    }

    /// Creates an issue as `username` at the clock's now; returns its iid.
    pub fn create_issue_as(&self, username: &str, title: &str, description: &str) -> u64 {
        let now = self.app.now();
        let mut store = self.app.lock();
        let author = seed::user_id(&store, username);
        let index = seed::issue(&mut store, self.project_id, author, title, description, now);
        store.issues[index].iid
    }

    /// Creates a work item of another type ("task", "test_case",
    /// "incident") as `username`; returns its iid. The project's issue list
    /// returns it too.
    pub fn create_work_item_as(&self, username: &str, title: &str, issue_type: &str) -> u64 {
        let now = self.app.now();
        let mut store = self.app.lock();
        let author = seed::user_id(&store, username);
        let kind = state::ISSUE_TYPES
            .into_iter()
            .find(|t| *t == issue_type)
            .unwrap_or("issue");
        let index = seed::work_item(&mut store, self.project_id, author, title, "", kind, now);
        store.issues[index].iid
    }

    /// Comments on an issue as `username` (touching it like GitLab does).
    pub fn add_note_as(&self, username: &str, iid: u64, body: &str) -> Option<u64> {
        let now = self.app.now();
        let mut store = self.app.lock();
        let author = seed::user_id(&store, username);
        let index = store.issue_index(self.project_id, iid)?;
        Some(store.add_note(index, author, body, false, now))
    }

    /// An internal note (readable from Reporter up) as `username`.
    pub fn add_internal_note_as(&self, username: &str, iid: u64, body: &str) -> Option<u64> {
        let id = self.add_note_as(username, iid, body)?;
        let mut store = self.app.lock();
        if let Some(n) = store.notes.iter_mut().find(|n| n.id == id) {
            n.internal = true;
        }
        Some(id)
    }

    /// A milestone of the project's parent group, as a group owner makes
    /// one in the UI; returns its id. The project's issues may use it.
    pub fn add_group_milestone(&self, title: &str) -> u64 {
        let now = self.app.now();
        let mut store = self.app.lock();
        let group = store
            .ancestor_groups(self.project_id)
            .pop()
            .unwrap_or_default();
        let id = store.next_id();
        let iid = store
            .milestones
            .iter()
            .filter(|m| m.group.as_deref() == Some(group.as_str()))
            .count() as u64
            + 1;
        store.milestones.push(state::Milestone {
            id,
            iid,
            project_id: 0,
            group: Some(group),
            title: title.into(),
            description: None,
            active: true,
            due_date: None,
            start_date: None,
            created_at: now,
            updated_at: now,
        });
        id
    }

    /// Deletes a note, as its author can in the UI. False if there is none.
    pub fn delete_note(&self, note_id: u64) -> bool {
        let mut store = self.app.lock();
        let before = store.notes.len();
        store.notes.retain(|n| n.id != note_id);
        store.notes.len() < before
    }

    /// Replaces an issue's labels as `username`.
    pub fn set_labels_as(&self, username: &str, iid: u64, labels: &[&str]) {
        let now = self.app.now();
        let mut store = self.app.lock();
        let user = seed::user_id(&store, username);
        if let Some(index) = store.issue_index(self.project_id, iid) {
            let wanted: BTreeSet<String> = labels.iter().map(|s| s.to_string()).collect();
            store.set_labels(index, wanted, user, now);
        }
    }

    /// Edits title and/or state as `username`, like the web form.
    pub fn edit_issue_as(&self, username: &str, iid: u64, title: Option<&str>, open: Option<bool>) {
        let now = self.app.now();
        let mut store = self.app.lock();
        let user = seed::user_id(&store, username);
        if let Some(index) = store.issue_index(self.project_id, iid) {
            if let Some(t) = title {
                store.issues[index].title = t.into();
                store.issues[index].updated_at = now;
            }
            if let Some(open) = open {
                store.set_state(index, open, user, now);
            }
        }
    }

    /// Deletes an issue, as a project owner can (gitlab-api.md §16 #12;
    /// `DELETE /projects/:id/issues/:iid` does the same, `lib/api/issues.rb`).
    /// False if there is none. The connector conformance suite uses it.
    pub fn delete_issue(&self, iid: u64) -> bool {
        let mut store = self.app.lock();
        match store.issue_index(self.project_id, iid) {
            Some(index) => {
                store.destroy_issue(index);
                true
            }
            None => false,
        }
    }

    /// Moves an issue's `updated_at` (an admin override, for test setups).
    pub fn set_issue_updated_at(&self, iid: u64, at: DateTime<Utc>) {
        let mut store = self.app.lock();
        if let Some(index) = store.issue_index(self.project_id, iid) {
            store.issues[index].updated_at = at;
        }
    }

    /// Another project (a path like "group/name"), with the same members
    /// as the main one; returns its id.
    pub fn add_project(&self, path: &str) -> u64 {
        let now = self.app.now();
        let mut store = self.app.lock();
        let id = store.next_id();
        let members = store
            .project(self.project_id)
            .map(|p| p.members.clone())
            .unwrap_or_default();
        store.projects.push(state::Project {
            id,
            name: path.rsplit('/').next().unwrap_or(path).to_string(),
            path_with_namespace: path.to_string(),
            issues_enabled: true,
            created_at: now,
            members,
            next_issue_iid: 0,
            next_milestone_iid: 0,
        });
        id
    }

    /// Every issue of the project as the API renders it, by iid.
    pub fn issues(&self) -> Vec<Value> {
        self.project_issues(self.project_id)
    }

    /// Every issue of any project as the API renders it, by iid.
    pub(crate) fn project_issues(&self, project_id: u64) -> Vec<Value> {
        let store = self.app.lock();
        let render = Render {
            store: &store,
            base: &self.url,
        };
        let today = self.app.today();
        store
            .issues
            .iter()
            .filter(|i| i.project_id == project_id)
            .map(|i| render.issue(i, today, true))
            .collect()
    }

    pub fn issue(&self, iid: u64) -> Option<Value> {
        self.issues()
            .into_iter()
            .find(|i| i["iid"].as_u64() == Some(iid))
    }

    /// The notes of an issue, system ones included, oldest first.
    pub fn notes(&self, iid: u64) -> Vec<Value> {
        let store = self.app.lock();
        let render = Render {
            store: &store,
            base: &self.url,
        };
        let Some(issue_id) = store
            .issue_index(self.project_id, iid)
            .map(|i| store.issues[i].id)
        else {
            return Vec::new();
        };
        store
            .notes
            .iter()
            .filter(|n| n.issue_id == issue_id)
            .map(|n| render.note(n))
            .collect()
    }

    /// Label names of the project.
    pub fn label_names(&self) -> Vec<String> {
        let store = self.app.lock();
        store
            .labels
            .iter()
            .filter(|l| l.project_id == self.project_id)
            .map(|l| l.name.clone())
            .collect()
    }
}
