//! What bounds the requests to one server during one cycle: a deadline, a
//! circuit breaker, and a heartbeat that says requests are still answered.
//!
//! `http_timeout` bounds one attempt; retries, rate-limit waits and cut
//! bodies could still add up to minutes per request, and every item of a
//! cycle would wait them out in turn against a server that does not answer.
//! So each client (one per server per cycle) also has a deadline that no
//! request outlives, and a breaker: once `BREAKER_MISSES` attempts in a row
//! got no answer at all, the server counts as unreachable and every further
//! request fails at once, naming the first cause. The engine stops the
//! project with that one error instead of queuing every item.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::HttpError;
use super::route::Route;

/// Attempts in a row without any answer (no connection, or nothing within
/// the timeout) after which a server counts as unreachable for the rest of
/// the cycle. Any answer, whatever its status, resets the count. The same
/// number of timeouts in a row on one route trips that route alone.
pub const BREAKER_MISSES: u32 = 3;

/// Counts answers received within their timeouts. The daemon pings the
/// systemd watchdog only while this moves (or while it is idle between
/// cycles), so a daemon wedged on anything is restarted. Cheap to clone;
/// clones share the count.
#[derive(Clone, Debug, Default)]
pub struct Heartbeat(Arc<AtomicU64>);

impl Heartbeat {
    pub fn beat(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The deadline and breakers of one client; shared by its clones.
#[derive(Clone, Debug)]
pub(super) struct Bounds {
    /// The side's name in errors ("GitLab"), set by its client.
    server: &'static str,
    deadline: Option<(Instant, Duration)>,
    breaker: Arc<Mutex<Breaker>>,
    /// Moves when a probe is settled (sent under the breaker's lock).
    probes: Arc<watch::Sender<u64>>,
    heartbeat: Heartbeat,
}

#[derive(Debug, Default)]
struct Breaker {
    misses: u32,
    /// Why the server counts as unreachable, once it does.
    open: Option<String>,
    /// The routes of the current misses in a row ("" for no connection).
    streak: HashSet<String>,
    /// Timeouts in a row per route; a route in `tripped` is not asked again.
    routes: HashMap<String, u32>,
    tripped: HashMap<String, (Route, u32)>,
    /// The last safe request answered in full on each route, and when: the
    /// probes that tell a hung route from a hung server.
    answered: HashMap<String, (u64, reqwest::Request)>,
    answered_seq: u64,
    probing: bool,
}

impl Breaker {
    /// The request last answered on another route than `route`, to send again.
    fn answered_other_than(&self, route: &Route) -> Option<reqwest::Request> {
        self.answered
            .iter()
            .filter(|(template, _)| **template != route.template)
            .max_by_key(|(_, (seq, _))| *seq)
            .and_then(|(_, (_, request))| request.try_clone())
    }
}

/// What became of an attempt that got no answer.
pub(super) enum Miss {
    /// Report this error.
    Report(HttpError),
    /// Send `request` again (it was answered earlier in the cycle) and tell
    /// [`Bounds::probed`] whether it was answered.
    Probe {
        request: Box<reqwest::Request>,
        error: HttpError,
    },
    /// Another attempt's probe is on its way: wait for `settled` to change,
    /// then ask [`Bounds::after_probe`].
    AwaitProbe {
        settled: watch::Receiver<u64>,
        error: HttpError,
    },
}

/// Opens the server's breaker, naming the last failure.
fn open(breaker: &mut Breaker, error: &HttpError, how: &str) {
    if breaker.open.is_none() {
        breaker.open = Some(format!(
            "{} requests in a row {how}, the last: {error}",
            breaker.misses
        ));
    }
}

impl Bounds {
    pub(super) fn new(deadline: Option<Duration>, heartbeat: Heartbeat) -> Bounds {
        Bounds {
            server: "the server",
            deadline: deadline
                .map(|d| (Instant::now().checked_add(d).unwrap_or_else(far_future), d)),
            breaker: Arc::default(),
            probes: Arc::new(watch::Sender::new(0)),
            heartbeat,
        }
    }

    pub(super) fn name(&mut self, server: &'static str) {
        self.server = server;
    }

    /// When every request of this client must have ended.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.deadline.map(|(at, _)| at)
    }

    /// The error for a request that may not be sent (or go on): the breaker
    /// of the server or of the request's route is open, or the deadline has
    /// passed.
    pub(super) fn refusal(&self, what: &str, route: Option<&Route>) -> Option<HttpError> {
        {
            let breaker = self.lock();
            if let Some(cause) = breaker.open.clone() {
                return Some(HttpError::Unreachable {
                    what: what.to_string(),
                    cause,
                });
            }
            if let Some((r, timeouts)) = route.and_then(|r| breaker.tripped.get(&r.template)) {
                return Some(self.route_down(what, r, *timeouts));
            }
        }
        match self.deadline {
            Some((at, _)) if Instant::now() >= at => Some(self.past_deadline(what)),
            _ => None,
        }
    }

    pub(super) fn past_deadline(&self, what: &str) -> HttpError {
        HttpError::Deadline {
            what: what.to_string(),
            after: self.deadline.map(|(_, d)| d).unwrap_or_default(),
        }
    }

    /// A status line came (the body may still be cut): the server is there.
    pub(super) fn alive(&self) {
        self.heartbeat.beat();
    }

    /// A whole answer came on `route`: both its counts start again.
    pub(super) fn answered(&self, route: &Route) {
        let mut breaker = self.lock();
        breaker.misses = 0;
        breaker.streak.clear();
        breaker.routes.remove(&route.template);
    }

    /// An attempt on `route` got no answer. Returns the error to report: the attempt's
    /// own, [`HttpError::Unreachable`] once the server's breaker opens, or
    /// [`HttpError::RouteDown`] once the route's does; or asks for a probe
    /// when the misses in a row were all on this route.
    pub(super) fn missed(&self, what: &str, route: &Route, error: HttpError) -> Miss {
        if !error.is_no_answer() {
            return Miss::Report(error);
        }
        let mut breaker = self.lock();
        let timeout = matches!(error, HttpError::Timeout { .. });
        if timeout && breaker.tripped.contains_key(&route.template) {
            // Sent before the route tripped: the route explains it.
            return Miss::Report(self.verdict(&mut breaker, what, route, error));
        }
        if timeout {
            *breaker.routes.entry(route.template.clone()).or_default() += 1;
        }
        breaker.misses += 1;
        // A refused connection is the server's, whatever the route.
        let key = if timeout {
            route.template.clone()
        } else {
            String::new()
        };
        breaker.streak.insert(key);
        if breaker.open.is_none() && breaker.misses >= BREAKER_MISSES {
            // One route silent, several times: a hung route, or a hung
            // server that was asked nothing else? A request that was
            // answered before this cycle tells.
            let one_route = breaker.streak.len() == 1 && breaker.streak.contains(&route.template);
            match one_route
                .then(|| breaker.answered_other_than(route))
                .flatten()
            {
                Some(_) if breaker.probing => {
                    return Miss::AwaitProbe {
                        settled: self.probes.subscribe(),
                        error,
                    };
                }
                Some(request) => {
                    breaker.probing = true;
                    return Miss::Probe {
                        request: Box::new(request),
                        error,
                    };
                }
                None => open(&mut breaker, &error, "got no answer"),
            }
        }
        Miss::Report(self.verdict(&mut breaker, what, route, error))
    }

    /// The probe asked for by [`Bounds::missed`] was answered or not: the
    /// route, or the whole server, is not asked again this cycle.
    pub(super) fn probed(
        &self,
        what: &str,
        route: &Route,
        answered: bool,
        error: HttpError,
    ) -> HttpError {
        let mut breaker = self.lock();
        breaker.probing = false;
        self.probes.send_modify(|n| *n += 1);
        if answered {
            breaker.misses = 0;
            breaker.streak.clear();
            self.heartbeat.beat();
        } else {
            open(&mut breaker, &error, "got no answer");
        }
        self.verdict(&mut breaker, what, route, error)
    }

    /// The probe's request was dropped unsettled (its cycle stopped): the
    /// attempts waiting for it go on with their own errors.
    pub(super) fn probe_dropped(&self) {
        let mut breaker = self.lock();
        if breaker.probing {
            breaker.probing = false;
            self.probes.send_modify(|n| *n += 1);
        }
    }

    /// What to report for a miss that waited for another attempt's probe.
    pub(super) fn after_probe(&self, what: &str, route: &Route, error: HttpError) -> HttpError {
        self.verdict(&mut self.lock(), what, route, error)
    }

    /// A safe request to `route` was answered in full: it may serve as a
    /// probe later in the cycle.
    pub(super) fn remember(&self, route: &Route, request: reqwest::Request) {
        let mut breaker = self.lock();
        breaker.answered_seq += 1;
        let seq = breaker.answered_seq;
        breaker
            .answered
            .insert(route.template.clone(), (seq, request));
    }

    /// What to report for an attempt on `route` that got no answer, once
    /// the counts are up to date; trips the route after enough timeouts.
    fn verdict(
        &self,
        breaker: &mut Breaker,
        what: &str,
        route: &Route,
        error: HttpError,
    ) -> HttpError {
        if let Some(cause) = &breaker.open {
            return HttpError::Unreachable {
                what: what.to_string(),
                cause: cause.clone(),
            };
        }
        let timeouts = breaker.routes.get(&route.template).copied().unwrap_or(0);
        if timeouts >= BREAKER_MISSES && !breaker.tripped.contains_key(&route.template) {
            tracing::warn!(
                server = self.server,
                operation = %route.operation,
                route = %route.template,
                "{} is not answering {}: {timeouts} requests in a row timed out; \
                 the rest of the cycle does without it",
                self.server,
                route.operation,
            );
            breaker
                .tripped
                .insert(route.template.clone(), (route.clone(), timeouts));
        }
        match breaker.tripped.get(&route.template) {
            Some((r, timeouts)) => self.route_down(what, r, *timeouts),
            None => error,
        }
    }

    fn route_down(&self, what: &str, route: &Route, timeouts: u32) -> HttpError {
        HttpError::RouteDown {
            what: what.to_string(),
            server: self.server,
            operation: route.operation.clone(),
            route: route.template.clone(),
            timeouts,
        }
    }

    /// A request ended without a whole answer because its connection broke,
    /// on its last allowed attempt: one miss for the server. A single cut
    /// answer that a retry mends counts nothing (a flaky network is the
    /// retries' business); a server whose answers are all cut off is as
    /// good as silent, and would otherwise cost every item all its retries.
    pub(super) fn cut_off(&self, what: &str, error: HttpError) -> HttpError {
        let mut breaker = self.lock();
        breaker.misses += 1;
        breaker.streak.insert(String::new());
        if breaker.misses >= BREAKER_MISSES {
            open(&mut breaker, &error, "got no complete answer");
        }
        match &breaker.open {
            Some(cause) => HttpError::Unreachable {
                what: what.to_string(),
                cause: cause.clone(),
            },
            None => error,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A deadline too far to compute means none in practice.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout() -> HttpError {
        HttpError::Timeout {
            what: "GET issues".into(),
            secs: 5,
        }
    }

    fn cut() -> HttpError {
        HttpError::Transport {
            what: "GET issues".into(),
            reason: "connection reset".into(),
        }
    }

    fn route(method: &str, path: &str) -> Route {
        Route::of(method, path)
    }

    fn report(miss: Miss) -> HttpError {
        match miss {
            Miss::Report(e) => e,
            Miss::Probe { error, .. } | Miss::AwaitProbe { error, .. } => {
                panic!("a probe asked for after {error}")
            }
        }
    }

    fn request(path: &str) -> reqwest::Request {
        let url = format!("http://gitlab.test{path}").parse().unwrap();
        reqwest::Request::new(reqwest::Method::GET, url)
    }

    #[test]
    fn the_breaker_opens_after_misses_in_a_row_and_an_answer_resets_the_count() {
        let beats = Heartbeat::default();
        let b = Bounds::new(None, beats.clone());
        let r = route("GET", "/issues");
        let miss = |what: &str| report(b.missed(what, &r, timeout()));
        assert!(matches!(miss("a"), HttpError::Timeout { .. }));
        assert!(matches!(miss("a"), HttpError::Timeout { .. }));
        b.alive();
        b.answered(&r);
        assert_eq!(beats.count(), 1);
        for _ in 1..BREAKER_MISSES {
            assert!(b.refusal("b", Some(&r)).is_none());
            assert!(matches!(miss("b"), HttpError::Timeout { .. }));
        }
        let tripped = miss("b");
        assert!(
            matches!(tripped, HttpError::Unreachable { .. }),
            "{tripped}"
        );
        let refused = b.refusal("c", None).unwrap().to_string();
        assert!(
            refused.starts_with("c: ")
                && refused.contains(
                    "3 requests in a row got no answer, the last: GET issues: no answer within 5 s"
                ),
            "{refused}"
        );
        // An answer still in flight does not close it again within the cycle.
        b.answered(&r);
        assert!(b.refusal("d", None).is_some());
    }

    #[test]
    fn timeouts_on_one_route_while_others_are_answered_trip_that_route_alone() {
        let mut b = Bounds::new(None, Heartbeat::default());
        b.name("GitLab");
        let create = route("POST", "/api/v4/projects/qa%2Fshop/issues");
        let read = route("GET", "/api/v4/projects/qa%2Fshop/issues/4");
        let hung_create = |what: &str| {
            // Another item's read is answered between the creates.
            b.alive();
            b.answered(&read);
            report(b.missed(what, &create, timeout()))
        };
        for _ in 1..BREAKER_MISSES {
            assert!(matches!(
                hung_create("new issue 'a'"),
                HttpError::Timeout { .. }
            ));
        }
        let tripped = hung_create("new issue 'c'").to_string();
        assert_eq!(
            tripped,
            "new issue 'c': GitLab is not answering issue creation \
             (POST /api/v4/projects/{id}/issues): 3 requests in a row timed out"
        );
        let refused = b.refusal("new issue 'd'", Some(&create)).unwrap();
        assert!(matches!(refused, HttpError::RouteDown { .. }), "{refused}");
        assert!(!refused.is_no_answer() && !refused.ends_cycle());
        // The same route in another project is the same route.
        let elsewhere = route("POST", "/api/v4/projects/7/issues");
        assert!(b.refusal("e", Some(&elsewhere)).is_some());
        // Everything else goes on; the server is not down.
        assert!(b.refusal("f", Some(&read)).is_none());
        assert!(b.refusal("", None).is_none());
    }

    #[test]
    fn a_route_answer_starts_its_count_again() {
        let b = Bounds::new(None, Heartbeat::default());
        let put = route("PUT", "/projects/1/incidents/2");
        for _ in 0..5 {
            for _ in 1..BREAKER_MISSES {
                let e = report(b.missed("x", &put, timeout()));
                assert!(matches!(e, HttpError::Timeout { .. }), "{e}");
            }
            b.answered(&put);
        }
        assert!(b.refusal("x", Some(&put)).is_none());
    }

    #[test]
    fn requests_ended_by_cuts_count_once_each_and_a_whole_answer_resets() {
        let b = Bounds::new(None, Heartbeat::default());
        let r = route("GET", "/issues");
        assert!(matches!(b.cut_off("a", cut()), HttpError::Transport { .. }));
        assert!(matches!(b.cut_off("a", cut()), HttpError::Transport { .. }));
        b.answered(&r);
        assert!(matches!(b.cut_off("a", cut()), HttpError::Transport { .. }));
        assert!(matches!(b.cut_off("a", cut()), HttpError::Transport { .. }));
        let e = b.cut_off("b", cut()).to_string();
        assert_eq!(
            e,
            "b: the server is unreachable (3 requests in a row got no complete answer, \
             the last: GET issues: connection failed: connection reset)"
        );
        assert!(b.refusal("c", Some(&r)).is_some());
    }

    #[test]
    fn an_answer_with_any_status_is_not_a_miss_and_a_passed_deadline_refuses() {
        let b = Bounds::new(None, Heartbeat::default());
        let r = route("GET", "/issues");
        for _ in 0..10 {
            assert!(matches!(
                report(b.missed("a", &r, HttpError::Build("x".into()))),
                HttpError::Build(_)
            ));
        }
        assert!(b.refusal("b", Some(&r)).is_none());
        let b = Bounds::new(Some(Duration::ZERO), Heartbeat::default());
        let e = b.refusal("GET issues", None).unwrap();
        assert!(matches!(e, HttpError::Deadline { .. }), "{e}");
    }

    /// Misses in a row on one route and nothing else asked meanwhile: a
    /// request answered before decides between the route and the server.
    #[test]
    fn misses_on_one_route_alone_are_settled_by_a_probe() {
        for server_up in [true, false] {
            let mut b = Bounds::new(None, Heartbeat::default());
            b.name("Spira");
            let read = route("GET", "/projects/1/incidents/2");
            b.remember(&read, request("/projects/1/incidents/2"));
            let put = route("PUT", "/projects/1/incidents/2");
            for _ in 1..BREAKER_MISSES {
                let e = report(b.missed("x", &put, timeout()));
                assert!(matches!(e, HttpError::Timeout { .. }), "{e}");
            }
            let Miss::Probe { request, error } = b.missed("y", &put, timeout()) else {
                panic!("no probe")
            };
            assert_eq!(request.url().path(), "/projects/1/incidents/2");
            assert_eq!(request.method(), reqwest::Method::GET);
            let e = b.probed("y", &put, server_up, error);
            if server_up {
                assert!(matches!(e, HttpError::RouteDown { .. }), "{e}");
                assert!(b.refusal("z", Some(&read)).is_none());
                assert!(b.refusal("", None).is_none());
            } else {
                assert!(matches!(e, HttpError::Unreachable { .. }), "{e}");
                assert!(b.refusal("z", Some(&read)).is_some());
            }
        }
    }
}
