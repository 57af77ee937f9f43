//! Fault injection and a movable clock, shared by both simulators.
//!
//! Tests turn faults on per route to prove that the clients retry what may be
//! retried and that the engine converges; they move the clock instead of
//! sleeping, so that time-based behaviour (GitLab's throttled touch, Spira's
//! LastUpdateDate windows, watermarks) is tested without waiting.
//!
//! A route can also hang: the connection is accepted and never answered, as
//! a server behind a wedged proxy or a stuck worker does. That is a fault of
//! the network, not a behaviour of GitLab or Spira, so it needs no vendor
//! evidence; it is what timeouts, the per-side deadline and the circuit
//! breaker (crates/http/src/bounds.rs) are tested against.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rand::Rng;

use super::trap::{Trap, Verdict};

/// The simulators' notion of "now": wall time plus an offset that tests move.
#[derive(Clone, Default)]
pub struct SimClock {
    offset_ms: Arc<AtomicI64>,
}

impl SimClock {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

/// What may go wrong on one route. Rates are shares of requests, 0.0 to 1.0.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultRule {
    /// Added before every answer.
    pub latency: Duration,
    /// Share of requests answered 500, 502 or 503 (chosen at random) without
    /// being processed.
    pub error_rate: f64,
    /// Share of requests whose connection is cut before a complete answer.
    pub drop_rate: f64,
    /// Share of requests answered 429 with Retry-After, without being processed.
    pub throttle_rate: f64,
    /// When set, the body is sent in small chunks with this pause between them.
    pub slow_body: Option<Duration>,
    /// Share of requests processed and then answered only after `stall`:
    /// past the client's timeout, the client cannot tell whether its write
    /// happened.
    pub stall_rate: f64,
    pub stall: Duration,
}

impl FaultRule {
    /// The same share of 5xx, drops and 429s, for blanket fault runs.
    pub fn flaky(rate: f64) -> Self {
        let share = rate / 3.0;
        FaultRule {
            error_rate: share,
            drop_rate: share,
            throttle_rate: share,
            ..FaultRule::default()
        }
    }

    /// 5xx, drops, 429s and answers that come too late (`stall` long), in equal shares.
    pub fn hostile(rate: f64, stall: Duration) -> Self {
        let share = rate / 4.0;
        FaultRule {
            error_rate: share,
            drop_rate: share,
            throttle_rate: share,
            stall_rate: share,
            stall,
            ..FaultRule::default()
        }
    }
}

/// Counts of what was injected, so tests and reports can say how much went wrong.
#[derive(Debug, Default)]
pub struct FaultCounts {
    pub errors: AtomicU64,
    pub drops: AtomicU64,
    pub throttles: AtomicU64,
    pub stalls: AtomicU64,
    pub requests: AtomicU64,
    /// Requests held without an answer by [`Faults::hang`], released or not.
    pub hung: AtomicU64,
}

/// Fault settings of one simulator. Cheap to clone; all clones share state.
#[derive(Clone, Default)]
pub struct Faults {
    inner: Arc<FaultsInner>,
}

#[derive(Default)]
struct FaultsInner {
    /// Rule for every route, unless a more specific one matches.
    default: Mutex<FaultRule>,
    /// Rules keyed by a fragment of "METHOD /route/template"; the longest
    /// matching key wins.
    routes: Mutex<HashMap<String, FaultRule>>,
    /// Drops still owed to routes whose "METHOD /template" equals the key.
    drops_owed: Mutex<HashMap<String, u32>>,
    /// A trap waiting for its request, if one is armed.
    trap: Mutex<Option<Trap>>,
    /// Hanging routes: key fragment → requests still let through.
    hangs: Mutex<HashMap<String, u64>>,
    /// Wakes every held request (they answer 503 and have no effect).
    release: tokio::sync::Notify,
    counts: FaultCounts,
}

/// The longest a hung request is held when nobody releases it.
const HANG_LIMIT: Duration = Duration::from_secs(3600);

impl Faults {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_default(&self, rule: FaultRule) {
        *lock(&self.inner.default) = rule;
    }

    /// Sets the rule for routes whose "METHOD /template" contains `key`, e.g.
    /// `"POST /api/v4/projects/{id}/issues"` or just `"/notes"`.
    pub fn set_route(&self, key: impl Into<String>, rule: FaultRule) {
        lock(&self.inner.routes).insert(key.into(), rule);
    }

    /// The next `count` requests to exactly `route` ("METHOD /template",
    /// e.g. `"POST /api/v4/projects/{id}/issues"`) are processed and then
    /// their connection is cut: the write happened, the client cannot know.
    pub fn drop_next(&self, route: impl Into<String>, count: u32) {
        lock(&self.inner.drops_owed).insert(route.into(), count);
    }

    /// Arms `trap` on this simulator (the same trap may be armed on both).
    pub fn arm(&self, trap: &Trap) {
        *lock(&self.inner.trap) = Some(trap.clone());
    }

    pub fn disarm(&self) {
        *lock(&self.inner.trap) = None;
    }

    /// Requests to routes whose "METHOD /template" contains `key` (`""`
    /// for every route) hang after the first `after` of them: accepted and
    /// never answered, until [`Faults::clear`]. [`FaultCounts::hung`] counts
    /// them, so a test can act once the hang is reached.
    pub fn hang(&self, key: impl Into<String>, after: u64) {
        lock(&self.inner.hangs).insert(key.into(), after);
    }

    /// Turns every fault off; hung requests are answered 503, unprocessed.
    pub fn clear(&self) {
        *lock(&self.inner.default) = FaultRule::default();
        lock(&self.inner.routes).clear();
        lock(&self.inner.drops_owed).clear();
        self.disarm();
        lock(&self.inner.hangs).clear();
        self.inner.release.notify_waiters();
    }

    /// Whether this request to `route` hangs (takes one pass if some are left).
    fn hangs(&self, route: &str) -> bool {
        let mut hangs = lock(&self.inner.hangs);
        let Some(left) = hangs
            .iter_mut()
            .filter(|(key, _)| route.contains(key.as_str()))
            .max_by_key(|(key, _)| key.len())
            .map(|(_, left)| left)
        else {
            return false;
        };
        match left.checked_sub(1) {
            Some(n) => {
                *left = n;
                false
            }
            None => true,
        }
    }

    /// Takes one owed drop for `route`, if any is left.
    fn owed_drop(&self, route: &str) -> bool {
        let mut owed = lock(&self.inner.drops_owed);
        match owed.get_mut(route) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    pub fn counts(&self) -> &FaultCounts {
        &self.inner.counts
    }

    fn rule_for(&self, route: &str) -> FaultRule {
        let routes = lock(&self.inner.routes);
        routes
            .iter()
            .filter(|(key, _)| route.contains(key.as_str()))
            .max_by_key(|(key, _)| key.len())
            .map(|(_, rule)| rule.clone())
            .unwrap_or_else(|| lock(&self.inner.default).clone())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

enum Decision {
    Pass,
    Error(StatusCode),
    Throttle,
    Drop,
    Stall,
}

fn decide(rule: &FaultRule) -> Decision {
    let mut rng = rand::rng();
    let roll: f64 = rng.random();
    if roll < rule.error_rate {
        let codes = [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::SERVICE_UNAVAILABLE,
        ];
        return Decision::Error(codes[rng.random_range(0..codes.len())]);
    }
    if roll < rule.error_rate + rule.drop_rate {
        return Decision::Drop;
    }
    if roll < rule.error_rate + rule.drop_rate + rule.throttle_rate {
        return Decision::Throttle;
    }
    if roll < rule.error_rate + rule.drop_rate + rule.throttle_rate + rule.stall_rate {
        return Decision::Stall;
    }
    Decision::Pass
}

/// axum middleware: `Router::layer(middleware::from_fn_with_state(faults, inject))`.
///
/// Errors and throttles are answered before the handler runs, so the request
/// has no effect, as with a proxy or throttle in front of the real service.
/// A drop runs the handler and then cuts the answer: the client cannot tell
/// whether its write happened, which is the hard case for idempotency.
pub(crate) async fn inject(State(faults): State<Faults>, req: Request, next: Next) -> Response {
    let route = format!(
        "{} {}",
        req.method(),
        req.extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str)
            .unwrap_or_else(|| req.uri().path())
    );
    let rule = faults.rule_for(&route);
    let counts = faults.counts();
    counts.requests.fetch_add(1, Ordering::Relaxed);
    let trap = lock(&faults.inner.trap).clone();
    if let Some(trap) = trap
        && let Verdict::Hold { processed } = trap.judge(req.method(), &route)
    {
        if processed {
            drop(next.run(req).await);
        }
        trap.hold().await;
        return (StatusCode::SERVICE_UNAVAILABLE, "released from a trap").into_response();
    }
    if faults.hangs(&route) {
        let released = faults.inner.release.notified();
        counts.hung.fetch_add(1, Ordering::SeqCst);
        tokio::select! {
            () = released => {}
            () = tokio::time::sleep(HANG_LIMIT) => {}
        }
        return (StatusCode::SERVICE_UNAVAILABLE, "released from a hang").into_response();
    }
    if !rule.latency.is_zero() {
        tokio::time::sleep(rule.latency).await;
    }
    let decision = if faults.owed_drop(&route) {
        Decision::Drop
    } else {
        decide(&rule)
    };
    match decision {
        Decision::Error(code) => {
            counts.errors.fetch_add(1, Ordering::Relaxed);
            (code, "injected fault").into_response()
        }
        Decision::Throttle => {
            counts.throttles.fetch_add(1, Ordering::Relaxed);
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("Retry-After", "1")],
                "Retry later\n",
            )
                .into_response()
        }
        Decision::Drop => {
            counts.drops.fetch_add(1, Ordering::Relaxed);
            let response = next.run(req).await;
            cut_body(response)
        }
        Decision::Stall => {
            counts.stalls.fetch_add(1, Ordering::Relaxed);
            let response = next.run(req).await;
            tokio::time::sleep(rule.stall).await;
            response
        }
        Decision::Pass => {
            let response = next.run(req).await;
            match rule.slow_body {
                Some(pause) => slow_body(response, pause).await,
                None => response,
            }
        }
    }
}

/// axum middleware that stamps every answer's `Date` header with the
/// simulator's clock, as a real server stamps its own time: clients measure
/// sync windows on the server's clock, so a moved clock must show here too.
pub(crate) async fn date_header(
    State(clock): State<SimClock>,
    req: Request,
    next: Next,
) -> Response {
    let mut response = next.run(req).await;
    let date = clock.now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(value) = axum::http::HeaderValue::from_str(&date) {
        response
            .headers_mut()
            .insert(axum::http::header::DATE, value);
    }
    response
}

/// Keeps status and headers but fails the body stream after the first bytes,
/// so hyper aborts the connection mid-answer.
fn cut_body(response: Response) -> Response {
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let stream = futures_util::stream::iter(vec![
        Ok(Bytes::from_static(b"[")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected connection drop",
        )),
    ]);
    Response::from_parts(parts, Body::from_stream(stream))
}

async fn slow_body(response: Response, pause: Duration) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "body").into_response(),
    };
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let chunks: Vec<Bytes> = bytes
        .chunks(64)
        .map(Bytes::copy_from_slice)
        .collect::<Vec<_>>();
    let stream = futures_util::stream::unfold(chunks.into_iter(), move |mut rest| async move {
        let chunk = rest.next()?;
        tokio::time::sleep(pause).await;
        Some((Ok::<Bytes, Infallible>(chunk), rest))
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_matching_route_wins() {
        let faults = Faults::new();
        faults.set_default(FaultRule::flaky(0.3));
        faults.set_route(
            "/notes",
            FaultRule {
                error_rate: 1.0,
                ..FaultRule::default()
            },
        );
        faults.set_route(
            "POST /api/v4/projects/{id}/issues/{iid}/notes",
            FaultRule::default(),
        );
        assert_eq!(
            faults
                .rule_for("GET /api/v4/projects/{id}/issues/{iid}/notes")
                .error_rate,
            1.0
        );
        assert_eq!(
            faults.rule_for("POST /api/v4/projects/{id}/issues/{iid}/notes"),
            FaultRule::default()
        );
        assert_eq!(faults.rule_for("GET /api/v4/user"), FaultRule::flaky(0.3));
        faults.clear();
        assert_eq!(faults.rule_for("GET /api/v4/user"), FaultRule::default());
    }

    #[tokio::test]
    async fn a_hanging_route_lets_the_first_requests_through_then_holds_until_cleared() {
        let faults = Faults::new();
        faults.hang("/users", 2);
        let route = "GET /projects/{project_id}/users";
        assert!(!faults.hangs(route));
        assert!(!faults.hangs(route));
        assert!(faults.hangs(route));
        assert!(faults.hangs(route), "it keeps hanging");
        assert!(!faults.hangs("GET /projects/{project_id}/incidents"));
        faults.clear();
        assert!(!faults.hangs(route));
    }

    #[test]
    fn clock_moves_when_told() {
        let clock = SimClock::new();
        let before = clock.now();
        clock.advance(chrono::Duration::hours(2));
        let after = clock.now();
        assert!(after - before >= chrono::Duration::hours(2));
    }

    #[test]
    fn rates_decide_outcomes() {
        let always_error = FaultRule {
            error_rate: 1.0,
            ..FaultRule::default()
        };
        assert!(matches!(decide(&always_error), Decision::Error(_)));
        let always_drop = FaultRule {
            drop_rate: 1.0,
            ..FaultRule::default()
        };
        assert!(matches!(decide(&always_drop), Decision::Drop));
        let always_429 = FaultRule {
            throttle_rate: 1.0,
            ..FaultRule::default()
        };
        assert!(matches!(decide(&always_429), Decision::Throttle));
        assert!(matches!(decide(&FaultRule::default()), Decision::Pass));
    }
}
