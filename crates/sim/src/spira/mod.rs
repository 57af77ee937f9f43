//! In-memory simulator of Spira REST v7 (incidents, comments, lookups,
//! releases, users), faithful to ../shared/reference/spira-api.md, with the
//! shared fault injection and movable clock.
//!
//! The API is at `{url}/Services/v7_0/RestService.svc`. Route templates (for
//! [`SpiraSim::request_count`] and fault keys) look like
//! `POST /projects/{project_id}/incidents/search`.
//!
//! Where the reference is silent the simulator chooses, and says so:
//! - every write sets `LastUpdateDate` and `ConcurrencyDate` to the server's
//!   time, later than any earlier write, and a PUT must send the stored
//!   `ConcurrencyDate` exactly;
//! - whether a new comment moves the incident's `LastUpdateDate` is an option
//!   (`comment_bumps_last_update`, off by default);
//! - an unknown project answers 404, a project the caller is not a member of
//!   401; an unknown search filter property answers 400.

mod auth;
mod comments;
mod dates;
mod incidents;
mod input;
mod lookups;
mod releases;
mod render;
mod search;
mod seed;
mod state;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use chrono::{DateTime, Utc};
use rand::Rng;
use tokio::sync::oneshot;

use super::Seed;
use super::faults::{self, FaultRule, Faults, SimClock};
pub use state::{SimComment, SimIncident, SimRelease, SimUser};

/// Where the v7 API is mounted.
pub const API_PREFIX: &str = "/Services/v7_0/RestService.svc";

#[derive(Clone, Debug)]
pub struct SpiraSimConfig {
    pub addr: SocketAddr,
    pub seed: Seed,
    /// Login of the api user (default "administrator").
    pub login: Option<String>,
    /// Api key of that user (default: a random `{GUID}`).
    pub api_key: Option<String>,
    /// Added to every answer.
    pub latency: Duration,
    /// Share of requests that fail (5xx, dropped connection or 429).
    pub fault_rate: f64,
    /// Whether adding a comment moves the incident's LastUpdateDate (the
    /// reference is silent; off is the cautious assumption for the client).
    pub comment_bumps_last_update: bool,
    /// The template setting Workflow_BulkEditCanChangeStatus: when off, the
    /// API cannot change an incident's status (silently ignored).
    pub bulk_edit_can_change_status: bool,
}

impl Default for SpiraSimConfig {
    fn default() -> Self {
        SpiraSimConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: Seed::Demo,
            login: None,
            api_key: None,
            latency: Duration::ZERO,
            fault_rate: 0.0,
            comment_bumps_last_update: false,
            bulk_edit_can_change_status: true,
        }
    }
}

/// State shared by the handlers and the test helpers.
pub(crate) struct Shared {
    db: Mutex<state::Db>,
    clock: SimClock,
    counts: Mutex<HashMap<String, u64>>,
}

impl Shared {
    pub(crate) fn db(&self) -> MutexGuard<'_, state::Db> {
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

pub struct SpiraSim {
    url: String,
    login: String,
    api_key: String,
    shared: Arc<Shared>,
    faults: Faults,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

/// A key shaped like Spira's RSS tokens: `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`.
pub(crate) fn random_api_key() -> String {
    let mut rng = rand::rng();
    let hex = |n: usize, rng: &mut rand::rngs::ThreadRng| {
        (0..n)
            .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
            .collect::<String>()
            .to_uppercase()
    };
    format!(
        "{{{}-{}-{}-{}-{}}}",
        hex(8, &mut rng),
        hex(4, &mut rng),
        hex(4, &mut rng),
        hex(4, &mut rng),
        hex(12, &mut rng)
    )
}

impl SpiraSim {
    pub async fn start(cfg: SpiraSimConfig) -> std::io::Result<SpiraSim> {
        let login = cfg
            .login
            .clone()
            .unwrap_or_else(|| "administrator".to_string());
        let api_key = cfg.api_key.clone().unwrap_or_else(random_api_key);
        let clock = SimClock::new();
        let mut db = seed::build(cfg.seed, &login, &api_key, clock.now());
        db.comment_bumps_last_update = cfg.comment_bumps_last_update;
        db.bulk_edit_can_change_status = cfg.bulk_edit_can_change_status;
        let shared = Arc::new(Shared {
            db: Mutex::new(db),
            clock,
            counts: Mutex::default(),
        });
        let faults = Faults::new();
        if cfg.fault_rate > 0.0 || !cfg.latency.is_zero() {
            faults.set_default(FaultRule {
                latency: cfg.latency,
                ..FaultRule::flaky(cfg.fault_rate)
            });
        }
        let api = Router::new()
            .merge(incidents::routes())
            .merge(comments::routes())
            .merge(lookups::routes())
            .merge(releases::routes());
        let app = Router::new()
            .nest(API_PREFIX, api.clone())
            // Spira's clients use both spellings (reference §1).
            .nest("/services/v7_0/RestService.svc", api)
            .route_layer(middleware::from_fn_with_state(
                shared.clone(),
                auth::authenticate,
            ))
            .route_layer(middleware::from_fn_with_state(
                faults.clone(),
                faults::inject,
            ))
            .route_layer(middleware::from_fn_with_state(shared.clone(), count))
            .with_state(shared.clone())
            .layer(middleware::from_fn_with_state(
                shared.clock.clone(),
                faults::date_header,
            ));
        let listener = tokio::net::TcpListener::bind(cfg.addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = served.await {
                tracing::error!(error = %e, "Spira simulator stopped");
            }
        });
        Ok(SpiraSim {
            url: format!("http://{addr}"),
            login,
            api_key,
            shared,
            faults,
            stop: Some(stop),
            task,
        })
    }

    /// `http://127.0.0.1:PORT`; the API is under [`API_PREFIX`].
    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn login(&self) -> &str {
        &self.login
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    pub fn project_id(&self) -> u32 {
        1
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    pub fn clock(&self) -> &SimClock {
        &self.shared.clock
    }

    /// Requests whose "METHOD /route/template" contains the fragment, faulty
    /// ones included. The API prefix may be left out:
    /// `"POST /projects/{project_id}/incidents"` counts creates.
    pub fn request_count(&self, route_fragment: &str) -> u64 {
        let counts = self
            .shared
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        counts
            .iter()
            .filter(|(route, _)| {
                route.contains(route_fragment)
                    || route.replacen(API_PREFIX, "", 1).contains(route_fragment)
            })
            .map(|(_, n)| n)
            .sum()
    }

    /// Every "METHOD /route/template" handled since the last reset, API
    /// prefix left out, sorted, with its count.
    pub fn request_counts(&self) -> Vec<(String, u64)> {
        let counts = self
            .shared
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<(String, u64)> = counts
            .iter()
            .map(|(route, n)| (route.replacen(API_PREFIX, "", 1), *n))
            .collect();
        all.sort();
        all
    }

    /// The key of one route for [`Faults::set_route`], which sees the full
    /// path: `fault_key("POST", "/projects/{project_id}/incidents")`.
    pub fn fault_key(method: &str, template: &str) -> String {
        format!("{method} {API_PREFIX}{template}")
    }

    pub fn reset_counts(&self) {
        self.shared
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    pub fn set_bulk_edit_can_change_status(&self, on: bool) {
        self.shared.db().bulk_edit_can_change_status = on;
    }

    pub fn set_comment_bumps_last_update(&self, on: bool) {
        self.shared.db().comment_bumps_last_update = on;
    }

    /// Makes DateRange filters read their bounds as wall-clock time of a
    /// server `offset` from UTC (e.g. -5 h): the OAS notes that timesheet
    /// retrieval "does not apply timezone offsets to filters", implying that
    /// other searches may, and Inflectra's data-sync plug-ins all carry a
    /// `TimeOffsetHours` knob (reference §13 row 7). Default: none, as UTC.
    pub fn set_date_filter_offset(&self, offset: chrono::Duration) {
        self.shared.db().date_filter_offset = offset;
    }

    /// Answers refused credentials with 404 "Access Denied" instead of 401.
    pub fn set_access_denied_as_404(&self, on: bool) {
        self.shared.db().access_denied_as_404 = on;
    }

    /// Makes the workflow require `field` (e.g. "OwnerId") for `status`:
    /// a change into that status with the field empty is refused.
    pub fn require_for_status(&self, status: u32, field: &str) {
        self.shared
            .db()
            .required_for_status
            .push((status, field.to_string()));
    }

    /// Fault injection: every answer about `incident` carries no
    /// `IncidentId` (`false` turns that off again).
    pub fn withhold_incident_id(&self, incident: u32, on: bool) {
        let mut db = self.shared.db();
        if on {
            db.ids_withheld.insert(incident);
        } else {
            db.ids_withheld.remove(&incident);
        }
    }

    /// Fault injection: answers to release creates carry no `ReleaseId`.
    pub fn withhold_created_release_id(&self, on: bool) {
        self.shared.db().created_release_id_withheld = on;
    }

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for SpiraSim {
    fn drop(&mut self) {
        if self.stop.is_some() {
            self.task.abort();
        }
    }
}

/// Counts requests per route template (outside the fault layer, so that
/// failed attempts count too).
async fn count(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    // One key for both spellings of the prefix.
    let template = path
        .strip_prefix("/services/v7_0/RestService.svc")
        .map(|rest| format!("{API_PREFIX}{rest}"))
        .unwrap_or(path);
    let key = format!("{} {}", req.method(), template);
    *shared
        .counts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(key)
        .or_default() += 1;
    next.run(req).await
}

mod helpers;
