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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::HttpError;

/// Attempts in a row without any answer (no connection, or nothing within
/// the timeout) after which a server counts as unreachable for the rest of
/// the cycle. Any answer, whatever its status, resets the count.
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

/// The deadline and breaker of one client; shared by its clones.
#[derive(Clone, Debug)]
pub(super) struct Bounds {
    deadline: Option<(Instant, Duration)>,
    breaker: Arc<Mutex<Breaker>>,
    heartbeat: Heartbeat,
}

#[derive(Debug, Default)]
struct Breaker {
    misses: u32,
    /// Why the server counts as unreachable, once it does.
    open: Option<String>,
}

impl Bounds {
    pub(super) fn new(deadline: Option<Duration>, heartbeat: Heartbeat) -> Bounds {
        Bounds {
            deadline: deadline
                .map(|d| (Instant::now().checked_add(d).unwrap_or_else(far_future), d)),
            breaker: Arc::default(),
            heartbeat,
        }
    }

    /// When every request of this client must have ended.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.deadline.map(|(at, _)| at)
    }

    /// The error for a request that may not be sent (or go on): the breaker
    /// is open, or the deadline has passed.
    pub(super) fn refusal(&self, what: &str) -> Option<HttpError> {
        if let Some(cause) = self.lock().open.clone() {
            return Some(HttpError::Unreachable {
                what: what.to_string(),
                cause,
            });
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

    /// An answer came: the server is up.
    pub(super) fn answered(&self) {
        self.lock().misses = 0;
        self.heartbeat.beat();
    }

    /// An attempt got no answer. Returns the error to report: the attempt's
    /// own, or [`HttpError::Unreachable`] once the breaker opens.
    pub(super) fn missed(&self, what: &str, error: HttpError) -> HttpError {
        if !error.is_no_answer() {
            return error;
        }
        let mut breaker = self.lock();
        breaker.misses += 1;
        if breaker.open.is_none() && breaker.misses >= BREAKER_MISSES {
            breaker.open = Some(format!(
                "{} requests in a row got no answer, the last: {error}",
                breaker.misses
            ));
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

    #[test]
    fn the_breaker_opens_after_misses_in_a_row_and_an_answer_resets_the_count() {
        let beats = Heartbeat::default();
        let b = Bounds::new(None, beats.clone());
        assert!(matches!(
            b.missed("a", timeout()),
            HttpError::Timeout { .. }
        ));
        assert!(matches!(
            b.missed("a", timeout()),
            HttpError::Timeout { .. }
        ));
        b.answered();
        assert_eq!(beats.count(), 1);
        for _ in 1..BREAKER_MISSES {
            assert!(b.refusal("b").is_none());
            assert!(matches!(
                b.missed("b", timeout()),
                HttpError::Timeout { .. }
            ));
        }
        let tripped = b.missed("b", timeout());
        assert!(
            matches!(tripped, HttpError::Unreachable { .. }),
            "{tripped}"
        );
        let refused = b.refusal("c").unwrap().to_string();
        assert!(
            refused.starts_with("c: ")
                && refused.contains(
                    "3 requests in a row got no answer, the last: GET issues: no answer within 5 s"
                ),
            "{refused}"
        );
        // An answer still in flight does not close it again within the cycle.
        b.answered();
        assert!(b.refusal("d").is_some());
    }

    #[test]
    fn an_answer_with_any_status_is_not_a_miss_and_a_passed_deadline_refuses() {
        let b = Bounds::new(None, Heartbeat::default());
        let build = HttpError::Build("x".into());
        for _ in 0..10 {
            assert!(matches!(
                b.missed("a", HttpError::Build("x".into())),
                HttpError::Build(_)
            ));
        }
        assert!(b.refusal("b").is_none(), "{build}");
        let b = Bounds::new(Some(Duration::ZERO), Heartbeat::default());
        let e = b.refusal("GET issues").unwrap();
        assert!(matches!(e, HttpError::Deadline { .. }), "{e}");
    }
}
