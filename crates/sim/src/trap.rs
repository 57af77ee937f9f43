//! A trap holds one chosen request in flight and tells the test it arrived,
//! so that a test can kill the client at a moment it chose rather than at a
//! random time: "the first write", "the request after the second write".
//!
//! One trap may be armed on both simulators at once; it counts writes across
//! both, as the client sees them. A held request gets no answer until the
//! test releases it (by then the client is gone).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::Method;
use tokio::sync::Notify;

/// Which request the trap holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Catch {
    /// The n-th request of any kind (1 = the next one).
    Request(u32),
    /// The n-th write (any method but GET and HEAD, searches excepted).
    Write(u32),
    /// The first request of any kind after n writes went through.
    RequestAfterWrites(u32),
    /// The first request to exactly this "METHOD /route/template", e.g.
    /// "POST /api/v4/projects/{id}/issues".
    First(String),
}

/// A trap; cheap to clone, all clones are the same trap.
#[derive(Clone)]
pub struct Trap {
    inner: Arc<TrapInner>,
}

struct TrapInner {
    catch: Catch,
    /// Whether the held request is processed (the write happens, the answer
    /// never comes) or held before the handler (nothing happens).
    processed: bool,
    requests: AtomicU32,
    writes: AtomicU32,
    sprung: AtomicBool,
    /// What the held request was, e.g. "POST /api/v4/projects/{id}/issues".
    held: Mutex<Option<String>>,
    arrived: Notify,
    released: Notify,
}

/// What the middleware does with one request.
pub(crate) enum Verdict {
    Pass,
    /// Hold it: process it first when `processed`.
    Hold {
        processed: bool,
    },
}

impl Trap {
    pub fn new(catch: Catch, processed: bool) -> Trap {
        Trap {
            inner: Arc::new(TrapInner {
                catch,
                processed,
                requests: AtomicU32::new(0),
                writes: AtomicU32::new(0),
                sprung: AtomicBool::new(false),
                held: Mutex::new(None),
                arrived: Notify::new(),
                released: Notify::new(),
            }),
        }
    }

    /// Waits until the chosen request is being held.
    pub async fn sprung(&self) {
        self.inner.arrived.notified().await;
    }

    /// The route of the held request, once sprung.
    pub fn held(&self) -> Option<String> {
        self.inner
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Lets the held request end (answered 503, to whoever still listens).
    pub fn release(&self) {
        self.inner.released.notify_one();
    }

    /// Called by the fault middleware for every request it sees.
    pub(crate) fn judge(&self, method: &Method, route: &str) -> Verdict {
        let inner = &self.inner;
        if inner.sprung.load(Ordering::SeqCst) {
            return Verdict::Pass;
        }
        // Spira's searches are POSTs that change nothing.
        let write = method != Method::GET && method != Method::HEAD && !route.ends_with("/search");
        let requests = inner.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let writes_before = inner.writes.load(Ordering::SeqCst);
        let writes = if write {
            inner.writes.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            writes_before
        };
        let hit = match &inner.catch {
            Catch::Request(n) => requests == *n,
            Catch::Write(n) => write && writes == *n,
            Catch::RequestAfterWrites(n) => writes_before == *n,
            Catch::First(wanted) => route == wanted,
        };
        if !hit || inner.sprung.swap(true, Ordering::SeqCst) {
            return Verdict::Pass;
        }
        *inner.held.lock().unwrap_or_else(PoisonError::into_inner) = Some(route.to_string());
        Verdict::Hold {
            processed: inner.processed,
        }
    }

    /// Tells the test the request is held, then waits for the release.
    pub(crate) async fn hold(&self) {
        self.inner.arrived.notify_one();
        self.inner.released.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(trap: &Trap, method: Method) -> bool {
        matches!(trap.judge(&method, "route"), Verdict::Hold { .. })
    }

    #[test]
    fn the_nth_write_is_held_once() {
        let trap = Trap::new(Catch::Write(2), true);
        assert!(!holds(&trap, Method::GET));
        assert!(!holds(&trap, Method::POST));
        assert!(!holds(&trap, Method::GET));
        assert!(matches!(
            trap.judge(
                &Method::POST,
                "POST /projects/{project_id}/incidents/search"
            ),
            Verdict::Pass
        ));
        assert!(holds(&trap, Method::PUT));
        assert!(!holds(&trap, Method::PUT), "a trap springs once");
    }

    #[test]
    fn the_request_after_writes_is_held_whatever_its_method() {
        let trap = Trap::new(Catch::RequestAfterWrites(1), false);
        assert!(!holds(&trap, Method::GET));
        assert!(!holds(&trap, Method::POST));
        assert!(holds(&trap, Method::GET));
    }

    #[test]
    fn the_first_request_to_a_route_is_held() {
        let trap = Trap::new(Catch::First("POST /issues".into()), true);
        assert!(matches!(
            trap.judge(&Method::GET, "GET /issues"),
            Verdict::Pass
        ));
        assert!(matches!(
            trap.judge(&Method::POST, "POST /issues"),
            Verdict::Hold { processed: true }
        ));
    }

    #[test]
    fn the_nth_request_is_held() {
        let trap = Trap::new(Catch::Request(3), false);
        assert!(!holds(&trap, Method::POST));
        assert!(!holds(&trap, Method::GET));
        assert!(holds(&trap, Method::GET));
    }
}
