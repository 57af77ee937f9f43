//! The HTTP layer both API clients share: timeouts, retries with backoff and
//! jitter, and a per-host gate that honours `RateLimit-*` and `Retry-After`.
//!
//! It answers with the server's response whatever its status (the clients turn
//! statuses into their own typed errors) and fails only when no answer came.
//! It never logs a header, so tokens stay out of the logs. [`bounds`] holds
//! what bounds a client's requests as a whole: a deadline and a breaker.

mod bounds;
pub mod redact;
mod route;
pub mod secret;

pub use bounds::{BREAKER_MISSES, Heartbeat};

use bounds::Miss;
use route::Route;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, Response, StatusCode};
use tokio::time::Instant;

/// Tuning of the shared HTTP layer.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// One attempt's timeout, end to end: connecting, the answer's headers
    /// and its body.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// Longest wait honoured from a `Retry-After` or `RateLimit-Reset`.
    pub max_rate_wait: Duration,
    /// The wait after a 429 that says neither `Retry-After` nor
    /// `RateLimit-Reset`, as GitLab's application limiter answers (issue and
    /// note creation, search) on older versions: its windows are a minute.
    pub silent_429_wait: Duration,
    /// When `RateLimit-Remaining` drops to this, requests wait for the reset.
    pub rate_reserve: u64,
    /// A private CA bundle (PEM) trusted in addition to the system roots.
    pub ca_file: Option<std::path::PathBuf>,
    /// The largest answer body read; a larger one is an error, not memory.
    pub max_body_bytes: u64,
    /// No request of a client outlives this, counted from the client's
    /// creation (one client per server per cycle): retries and waits included.
    pub deadline: Option<Duration>,
    /// Beaten by every answer.
    pub heartbeat: Heartbeat,
}

/// Far above any real answer (a page of 100 issues with long descriptions
/// is a few MiB), and a bound on what a broken or hostile server can make
/// labsync hold in memory.
pub const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_retries: 5,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
            max_rate_wait: Duration::from_secs(120),
            silent_429_wait: Duration::from_secs(60),
            rate_reserve: 2,
            ca_file: None,
            max_body_bytes: MAX_BODY_BYTES,
            deadline: None,
            heartbeat: Heartbeat::default(),
        }
    }
}

/// A complete answer, body read.
#[derive(Debug)]
pub struct FullResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Whether a request may be sent twice without harm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// GET, PUT of full state, DELETE: retried on any transient failure.
    Safe,
    /// POST that creates something: retried only when the server surely did
    /// not act on it (429, connection refused). Anything else is left to the
    /// engine's intent and marker logic, which finds out what happened.
    Unsafe,
}

/// No answer could be had from the server.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{what}: cannot connect: {reason}")]
    Connect { what: String, reason: String },
    #[error("{what}: no answer within {secs} s")]
    Timeout { what: String, secs: u64 },
    #[error("{what}: connection failed: {reason}")]
    Transport { what: String, reason: String },
    #[error("could not build the HTTP client: {0}")]
    Build(String),
    /// Not retried: the same request would get the same answer.
    #[error(
        "{what}: the answer to {route} is larger than {limit_mib} MiB, the limit on one answer: not read"
    )]
    BodyTooLarge {
        what: String,
        route: String,
        limit_mib: u64,
    },
    /// The breaker is open: the server did not answer several requests in a row.
    #[error("{what}: the server is unreachable ({cause})")]
    Unreachable { what: String, cause: String },
    /// One route's breaker is open: its requests timed out several times
    /// in a row while the server answered others. Fails at once, for this
    /// request alone: the rest of the cycle goes on without that route.
    #[error(
        "{what}: {server} is not answering {operation} ({route}): {timeouts} requests in a row timed out"
    )]
    RouteDown {
        what: String,
        server: &'static str,
        operation: String,
        route: String,
        timeouts: u32,
    },
    #[error("{what}: not finished: the cycle's deadline for this server ({}) has passed", humantime::format_duration(*.after))]
    Deadline { what: String, after: Duration },
}

/// A failure that says a whole server is down for the rest of the cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideDown {
    /// The daemon backs off before trying the plugin again: the breaker
    /// opened (no answer to several requests in a row) or the cycle's
    /// deadline for the server passed.
    pub unreachable: bool,
    /// One line for the operator, naming `side`.
    pub message: String,
}

impl HttpError {
    /// Whether this failure means `side` (the server's name for people) is
    /// down: its breaker opened or the cycle's deadline for it passed.
    pub fn side_down(&self, side: &str) -> Option<SideDown> {
        let (unreachable, message) = match self {
            HttpError::Unreachable { cause, .. } => {
                (true, format!("{side} is unreachable: {cause}"))
            }
            // A cycle at full cost at the next tick would meet the same slow
            // server: the daemon backs off as from one that does not answer.
            HttpError::Deadline { after, .. } => (
                true,
                format!(
                    "{side} took too long: the cycle's deadline for it ({}) passed; the rest waits for the next cycle",
                    humantime::format_duration(*after)
                ),
            ),
            _ => return None,
        };
        Some(SideDown {
            unreachable,
            message,
        })
    }

    fn from_reqwest(what: &str, err: &reqwest::Error, timeout: Duration) -> Self {
        let what = what.to_string();
        // reqwest's message names the URL: ours carry no secret, and any
        // that slipped in is scrubbed here.
        let reason = crate::redact::scrub_urls(&error_chain(err)).into_owned();
        if err.is_timeout() {
            HttpError::Timeout {
                what,
                secs: timeout.as_secs(),
            }
        } else if err.is_connect() {
            HttpError::Connect { what, reason }
        } else {
            HttpError::Transport { what, reason }
        }
    }

    /// True when the request surely never reached the server's application.
    fn is_connect(&self) -> bool {
        matches!(self, HttpError::Connect { .. })
    }

    /// No connection, or no answer within the timeout: what the breaker
    /// counts per attempt. A connection cut mid-answer counts only once a
    /// request has no retry left ([`bounds::Bounds::cut_off`]).
    fn is_no_answer(&self) -> bool {
        matches!(self, HttpError::Connect { .. } | HttpError::Timeout { .. })
    }

    /// The connection broke before the answer was complete.
    fn is_cut(&self) -> bool {
        matches!(self, HttpError::Transport { .. })
    }

    /// The server is not asked again this cycle (breaker open, deadline
    /// passed): the whole project stops, not one item.
    fn ends_cycle(&self) -> bool {
        matches!(
            self,
            HttpError::Unreachable { .. } | HttpError::Deadline { .. }
        )
    }

    /// Not sent again this cycle: the server, or this request's route.
    fn is_final(&self) -> bool {
        self.ends_cycle() || matches!(self, HttpError::RouteDown { .. })
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// What the server told us about its rate budget.
#[derive(Debug, Default)]
struct RateState {
    remaining: Option<u64>,
    reset_at: Option<Instant>,
    /// Set by a 429: nobody sends before this.
    blocked_until: Option<Instant>,
    /// The server's clock (`Date` header) at the last answer, and when that was.
    server_time: Option<(chrono::DateTime<chrono::Utc>, Instant)>,
    /// Requests sent and not yet answered: an answer's `RateLimit-Remaining`
    /// may not count them yet.
    in_flight: u64,
}

/// One request on its way; counted out when dropped (answered or failed).
struct Sending {
    rate: Arc<Mutex<RateState>>,
}

impl Drop for Sending {
    fn drop(&mut self) {
        let mut state = self.rate.lock().unwrap_or_else(PoisonError::into_inner);
        state.in_flight = state.in_flight.saturating_sub(1);
    }
}

/// A reqwest client with the retry policy and rate gate of one host.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    settings: HttpSettings,
    rate: Arc<Mutex<RateState>>,
    bounds: bounds::Bounds,
}

/// One attempt's outcome, as seen by the retry loop.
enum Attempt {
    Answer(Response),
    Retryable(Response),
}

impl HttpClient {
    pub fn new(settings: HttpSettings) -> Result<Self, HttpError> {
        let mut builder = reqwest::Client::builder();
        if let Some(path) = &settings.ca_file {
            let shown = path.display();
            let pem = std::fs::read(path)
                .map_err(|e| HttpError::Build(format!("CA bundle {shown}: {e}")))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| HttpError::Build(format!("CA bundle {shown}: {}", error_chain(&e))))?;
            // Loud on purpose: every server signed by this CA is now trusted.
            tracing::warn!(ca_file = %shown, certificates = certs.len(), "trusting a private CA bundle in addition to the system roots");
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .user_agent(concat!("labsync/", env!("CARGO_PKG_VERSION")))
            .https_only(false)
            .redirect(reqwest::redirect::Policy::custom(same_host_redirects))
            .build()
            .map_err(|e| HttpError::Build(error_chain(&e)))?;
        Ok(HttpClient {
            client,
            bounds: bounds::Bounds::new(settings.deadline, settings.heartbeat.clone()),
            settings,
            rate: Arc::default(),
        })
    }

    /// Names the server in errors ("GitLab is not answering issue creation").
    pub fn named(mut self, server: &'static str) -> Self {
        self.bounds.name(server);
        self
    }

    /// The underlying client, to build requests with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The error any request would get now, if the server is not asked
    /// again (breaker open, deadline passed).
    pub fn down(&self) -> Option<HttpError> {
        self.bounds.refusal("", None)
    }

    /// The route of the request `build` makes, for the breakers, and the
    /// request itself (a probe, should it be answered).
    fn route_of<F>(&self, build: &F) -> (Route, Option<reqwest::Request>)
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
    {
        match build(&self.client).build() {
            Ok(r) => (Route::of(r.method().as_str(), r.url().path()), Some(r)),
            Err(_) => (Route::of("", ""), None),
        }
    }

    /// Sends again a request answered earlier in the cycle: an answer says
    /// the server is up and only the route that missed is hung.
    async fn probe(&self, request: reqwest::Request) -> bool {
        tracing::debug!(route = %request.url().path(), "asking a route that answered before whether the server is up");
        let _sending = self.wait_for_budget().await;
        self.client.execute(request).await.is_ok()
    }

    /// Runs a whole request, retries and waits included, within the deadline.
    async fn bounded<T>(
        &self,
        what: &str,
        route: &Route,
        work: impl Future<Output = Result<T, HttpError>>,
    ) -> Result<T, HttpError> {
        if let Some(refused) = self.bounds.refusal(what, Some(route)) {
            return Err(refused);
        }
        // Boxed: every client call awaits this, and test threads' stacks are small.
        let work = Box::pin(work);
        match self.bounds.deadline() {
            None => work.await,
            Some(at) => tokio::time::timeout_at(at, work)
                .await
                .unwrap_or_else(|_| Err(self.bounds.past_deadline(what))),
        }
    }

    /// Sends the request that `build` makes, as many times as the policy
    /// allows. `what` names the operation in errors ("GET issues of group/p").
    ///
    /// Returns the last answer whatever its status: a 4xx at once, a 5xx or
    /// 429 once retries are spent.
    pub async fn send<F>(
        &self,
        what: &str,
        idempotency: Idempotency,
        build: F,
    ) -> Result<Response, HttpError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
    {
        let (route, _) = self.route_of(&build);
        let sent = async {
            match self.send_retrying(what, &route, idempotency, &build).await {
                Ok(response) => {
                    self.bounds.answered(&route);
                    Ok(response)
                }
                Err(e) if e.is_cut() => Err(self.bounds.cut_off(what, e)),
                Err(e) => Err(e),
            }
        };
        self.bounded(what, &route, sent).await
    }

    async fn send_retrying<F>(
        &self,
        what: &str,
        route: &Route,
        idempotency: Idempotency,
        build: F,
    ) -> Result<Response, HttpError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.settings.min_delay)
            .with_max_delay(self.settings.max_delay)
            .with_max_times(self.settings.max_retries)
            .with_jitter();
        let result = (|| async {
            if let Some(refused) = self.bounds.refusal(what, Some(route)) {
                return Err(RetryError::Http(refused));
            }
            let _sending = self.wait_for_budget().await;
            let response = match build(&self.client).send().await {
                Ok(response) => response,
                Err(e) => {
                    let failed = HttpError::from_reqwest(what, &e, self.settings.timeout);
                    let error = match self.bounds.missed(what, route, failed) {
                        Miss::Report(error) => error,
                        Miss::Probe { request, error } => {
                            let unsettled = Unsettled(&self.bounds);
                            let answered = self.probe(*request).await;
                            std::mem::forget(unsettled);
                            self.bounds.probed(what, route, answered, error)
                        }
                        Miss::AwaitProbe { mut settled, error } => {
                            // The sender lives as long as the client.
                            let _ = settled.changed().await;
                            self.bounds.after_probe(what, route, error)
                        }
                    };
                    return Err(RetryError::Http(error));
                }
            };
            self.bounds.alive();
            self.observe(response.headers(), response.status());
            match classify(response.status(), idempotency) {
                true => {
                    // The whole answer, as far as we care: it is not read.
                    self.bounds.answered(route);
                    Err(RetryError::Status(Attempt::Retryable(response)))
                }
                false => Ok(Attempt::Answer(response)),
            }
        })
        .retry(backoff)
        .when(|e: &RetryError| match e {
            RetryError::Status(_) => true,
            RetryError::Http(h) => {
                !h.is_final() && (idempotency == Idempotency::Safe || h.is_connect())
            }
        })
        .adjust(|e: &RetryError, planned| match e {
            // A throttled answer says when to come back; the rate gate waits
            // for that, so the backoff itself need not add more.
            RetryError::Status(Attempt::Retryable(r)) if r.status() == StatusCode::TOO_MANY_REQUESTS => {
                planned.map(|_| Duration::from_millis(10))
            }
            _ => planned,
        })
        .notify(|e: &RetryError, delay| {
            tracing::debug!(what, retry_in_ms = delay.as_millis() as u64, cause = %e.describe(), "retrying");
        })
        .await;
        match result {
            Ok(Attempt::Answer(r)) | Ok(Attempt::Retryable(r)) => Ok(r),
            Err(RetryError::Status(Attempt::Answer(r)))
            | Err(RetryError::Status(Attempt::Retryable(r))) => Ok(r),
            Err(RetryError::Http(e)) => Err(e),
        }
    }

    /// Like [`HttpClient::send`], but also reads the whole body, and sends a
    /// safe request again when the connection breaks mid-body (a cut answer
    /// would otherwise surface as an unretried decode or transport error).
    pub async fn send_full<F>(
        &self,
        what: &str,
        idempotency: Idempotency,
        build: F,
    ) -> Result<FullResponse, HttpError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
    {
        let (route, request) = self.route_of(&build);
        let answered = self
            .bounded(
                what,
                &route,
                self.send_full_retrying(what, &route, idempotency, build),
            )
            .await;
        if let (Ok(answer), Some(request)) = (&answered, request)
            && idempotency == Idempotency::Safe
            && answer.status.is_success()
        {
            self.bounds.remember(&route, request);
        }
        answered
    }

    async fn send_full_retrying<F>(
        &self,
        what: &str,
        route: &Route,
        idempotency: Idempotency,
        build: F,
    ) -> Result<FullResponse, HttpError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
    {
        let mut cut = 0usize;
        // For the error of an answer too large: which route it was.
        let method = route.template.split(' ').next().unwrap_or_default();
        loop {
            let response = match self.send_retrying(what, route, idempotency, &build).await {
                Ok(response) => response,
                Err(e) if e.is_cut() => return Err(self.bounds.cut_off(what, e)),
                Err(e) => return Err(e),
            };
            let status = response.status();
            let headers = response.headers().clone();
            match self.read_body(what, method, response).await {
                Ok(body) => {
                    self.bounds.answered(route);
                    return Ok(FullResponse {
                        status,
                        headers,
                        body,
                    });
                }
                Err(BodyError::TooLarge(e)) => return Err(e),
                Err(BodyError::Cut(err)) => {
                    if idempotency == Idempotency::Unsafe || cut >= self.settings.max_retries {
                        return Err(self.bounds.cut_off(what, err));
                    }
                    cut += 1;
                    let factor = 1u32 << cut.min(16);
                    let delay = (self.settings.min_delay * factor).min(self.settings.max_delay);
                    let jitter = rand::random_range(0.0..1.0) * delay.as_secs_f64();
                    tracing::debug!(what, cause = %err, "answer cut mid-body: retrying");
                    tokio::time::sleep(delay + Duration::from_secs_f64(jitter)).await;
                }
            }
        }
    }

    /// The whole body, chunk by chunk, stopping as soon as it passes the
    /// limit (an announced length past it is refused before reading).
    async fn read_body(
        &self,
        what: &str,
        method: &str,
        mut response: Response,
    ) -> Result<Vec<u8>, BodyError> {
        let limit = self.settings.max_body_bytes;
        let too_large = |response: &Response| {
            let url = response.url();
            // The route without its query or userinfo: the side's host and the path.
            let route = format!(
                "{method} {}{}",
                url.origin().ascii_serialization(),
                url.path()
            );
            BodyError::TooLarge(HttpError::BodyTooLarge {
                what: what.to_string(),
                route: crate::redact::scrub_urls(&route).into_owned(),
                limit_mib: limit.div_ceil(1024 * 1024),
            })
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(too_large(&response));
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > limit {
                        return Err(too_large(&response));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(e) => {
                    return Err(BodyError::Cut(HttpError::from_reqwest(
                        what,
                        &e,
                        self.settings.timeout,
                    )));
                }
            }
        }
    }

    /// The server's "now" by its own clock, from the `Date` header of the
    /// last answer (whole seconds) plus the time elapsed here since. Sync
    /// windows are measured on the server's clock, never ours.
    pub fn server_now(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let state = self.rate.lock().unwrap_or_else(PoisonError::into_inner);
        state.server_time.map(|(date, seen)| {
            date + chrono::Duration::from_std(seen.elapsed()).unwrap_or_default()
        })
    }

    /// Sleeps while the host's budget is spent or a 429 told us to wait;
    /// the request is counted in flight until the returned guard drops.
    async fn wait_for_budget(&self) -> Sending {
        loop {
            let wait = {
                let mut state = self.rate.lock().unwrap_or_else(PoisonError::into_inner);
                let now = Instant::now();
                let mut until = state.blocked_until.filter(|t| *t > now);
                if until.is_none() {
                    state.blocked_until = None;
                    match (state.remaining, state.reset_at) {
                        (Some(left), Some(reset))
                            if left <= self.settings.rate_reserve && reset > now =>
                        {
                            until = Some(reset);
                        }
                        (Some(left), _) => {
                            // Count our own request so concurrent callers share the budget.
                            state.remaining = Some(left.saturating_sub(1));
                        }
                        _ => {}
                    }
                    if let Some(reset) = state.reset_at.filter(|r| *r <= now) {
                        let _ = reset;
                        state.remaining = None;
                        state.reset_at = None;
                    }
                }
                until.map(|t| t.min(now + self.settings.max_rate_wait) - now)
            };
            match wait {
                Some(d) if !d.is_zero() => {
                    tracing::debug!(
                        wait_ms = d.as_millis() as u64,
                        "rate limit: waiting for the budget to reset"
                    );
                    tokio::time::sleep(d).await;
                    let mut state = self.rate.lock().unwrap_or_else(PoisonError::into_inner);
                    state.blocked_until = None;
                    if state.reset_at.is_some_and(|r| r <= Instant::now()) {
                        state.remaining = None;
                        state.reset_at = None;
                    }
                }
                _ => {
                    let mut state = self.rate.lock().unwrap_or_else(PoisonError::into_inner);
                    state.in_flight += 1;
                    return Sending {
                        rate: self.rate.clone(),
                    };
                }
            }
        }
    }

    /// Reads `RateLimit-Remaining`, `RateLimit-Reset` and `Retry-After`.
    fn observe(&self, headers: &HeaderMap, status: StatusCode) {
        let now = Instant::now();
        let mut state = self.rate.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(date) = headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
        {
            state.server_time = Some((date.with_timezone(&chrono::Utc), now));
        }
        if let Some(left) = header_u64(headers, "ratelimit-remaining") {
            // The other requests in flight may reach the server after this
            // answer was counted: keep their share aside.
            let others = state.in_flight.saturating_sub(1);
            state.remaining = Some(left.saturating_sub(others));
        }
        if let Some(epoch) = header_u64(headers, "ratelimit-reset") {
            // One second of slack: the reset epoch has whole-second precision.
            let secs = epoch.saturating_sub(wall_now_secs()) + 1;
            state.reset_at = Some(now + Duration::from_secs(secs).min(self.settings.max_rate_wait));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = wait_after_429(headers, wall_now_secs(), &self.settings);
            state.blocked_until = Some(now + wait);
        }
    }
}

/// Held while a probe is on its way: dropped with it (the cycle stopped),
/// it releases the attempts waiting for the probe's verdict.
struct Unsettled<'a>(&'a bounds::Bounds);

impl Drop for Unsettled<'_> {
    fn drop(&mut self) {
        self.0.probe_dropped();
    }
}

enum RetryError {
    Status(Attempt),
    Http(HttpError),
}

impl RetryError {
    fn describe(&self) -> String {
        match self {
            RetryError::Status(Attempt::Answer(r) | Attempt::Retryable(r)) => {
                format!("HTTP {}", r.status().as_u16())
            }
            RetryError::Http(e) => e.to_string(),
        }
    }
}

/// Follows redirects on the same host only, never from https to http.
/// reqwest drops `Authorization` on a cross-host redirect but not custom
/// headers such as GitLab's `PRIVATE-TOKEN`, which would go to the other
/// host; a stopped redirect comes back as the 3xx answer instead.
fn same_host_redirects(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    let Some(first) = attempt.previous().first() else {
        return attempt.stop();
    };
    let next = attempt.url();
    let same_host = next.host_str() == first.host_str();
    let downgrade = first.scheme() == "https" && next.scheme() != "https";
    if attempt.previous().len() > 5 || !same_host || downgrade {
        attempt.stop()
    } else {
        attempt.follow()
    }
}

/// True when the status is worth another try for this kind of request.
fn classify(status: StatusCode, idempotency: Idempotency) -> bool {
    match status {
        StatusCode::TOO_MANY_REQUESTS => true,
        StatusCode::INTERNAL_SERVER_ERROR
        | StatusCode::BAD_GATEWAY
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT => idempotency == Idempotency::Safe,
        _ => false,
    }
}

fn wall_now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// How long nobody sends after a 429: its `Retry-After`, else until its
/// `RateLimit-Reset` (epoch seconds), else `silent_429_wait` — GitLab's
/// application limiter (`lib/api/helpers/rate_limiter.rb`) answers with
/// neither on older versions, and its windows are a minute, so a short
/// backoff would only hammer it until the item fails. Capped at
/// `max_rate_wait`.
fn wait_after_429(headers: &HeaderMap, wall_now: u64, settings: &HttpSettings) -> Duration {
    let wait = header_u64(headers, "retry-after")
        .map(Duration::from_secs)
        .or_else(|| {
            // One second of slack: the reset epoch has whole-second precision.
            header_u64(headers, "ratelimit-reset")
                .map(|epoch| Duration::from_secs(epoch.saturating_sub(wall_now) + 1))
        })
        .unwrap_or(settings.silent_429_wait);
    wait.min(settings.max_rate_wait)
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Why a body could not be read.
enum BodyError {
    /// The connection broke mid-body: a safe request may be sent again.
    Cut(HttpError),
    /// Past the limit: final.
    TooLarge(HttpError),
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_private_ca_bundle_is_loaded_or_refused_with_its_path() {
        let pem = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data/private-ca.pem");
        let ok = HttpClient::new(HttpSettings {
            ca_file: Some(pem),
            ..HttpSettings::default()
        });
        assert!(ok.is_ok());
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.pem");
        std::fs::write(
            &bad,
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = HttpClient::new(HttpSettings {
            ca_file: Some(bad.clone()),
            ..HttpSettings::default()
        })
        .err()
        .unwrap();
        assert!(
            err.to_string()
                .contains(&format!("CA bundle {}", bad.display())),
            "{err}"
        );
    }

    use super::*;

    #[test]
    fn a_429_is_waited_out_as_its_headers_say_else_a_whole_minute() {
        let settings = HttpSettings::default();
        let now = 1_700_000_000;
        let with = |pairs: &[(&'static str, String)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, v.parse().unwrap());
            }
            wait_after_429(&h, now, &settings)
        };
        assert_eq!(with(&[("retry-after", "7".into())]), Duration::from_secs(7));
        assert_eq!(
            with(&[
                ("retry-after", "7".into()),
                ("ratelimit-reset", (now + 30).to_string())
            ]),
            Duration::from_secs(7),
            "Retry-After wins"
        );
        assert_eq!(
            with(&[("ratelimit-reset", (now + 30).to_string())]),
            Duration::from_secs(31),
            "until the reset, plus a second of slack"
        );
        // GitLab's application limiter on older versions: neither header.
        assert_eq!(with(&[]), Duration::from_secs(60));
        assert_eq!(
            with(&[("retry-after", "3600".into())]),
            settings.max_rate_wait,
            "capped"
        );
        let quick = HttpSettings {
            silent_429_wait: Duration::from_millis(20),
            ..HttpSettings::default()
        };
        assert_eq!(
            wait_after_429(&HeaderMap::new(), now, &quick),
            Duration::from_millis(20)
        );
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        assert!(classify(StatusCode::TOO_MANY_REQUESTS, Idempotency::Unsafe));
        assert!(classify(StatusCode::BAD_GATEWAY, Idempotency::Safe));
        assert!(!classify(StatusCode::BAD_GATEWAY, Idempotency::Unsafe));
        assert!(!classify(StatusCode::NOT_FOUND, Idempotency::Safe));
        assert!(!classify(StatusCode::UNAUTHORIZED, Idempotency::Safe));
        assert!(!classify(StatusCode::CONFLICT, Idempotency::Safe));
    }
}
