//! The systemd watchdog is pinged only while the daemon makes progress: the
//! loop between cycles, a cycle's end, and every HTTP answer beat a
//! [`Heartbeat`]; a ping goes out only when it moved since the last look.
//! A daemon wedged anywhere (a request that never returns, a lock never
//! given back) stops pinging, and systemd restarts it after `WatchdogSec`.
//! A server that does not answer is not a wedge: every request ends within
//! `http_timeout` and the breaker ends the cycle after a few misses.

use std::time::Duration;

use crate::http::Heartbeat;

use super::notify::Notifier;

/// Looks at the heartbeat every `every` (half of `WatchdogSec`).
pub(crate) fn spawn(every: Duration, heartbeat: Heartbeat, notifier: Notifier) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        let mut seen = None;
        loop {
            tick.tick().await;
            let now = heartbeat.count();
            if seen != Some(now) {
                notifier.watchdog();
                seen = Some(now);
            }
        }
    });
}
