//! When a plugin is tried again after a cycle that a side stopped: it did
//! not answer (the breaker opened), or the cycle's deadline for it passed.
//! Either way the next cycle at full cost would meet the same server, so
//! the plugin is tried again after 30 s, 1 min, 2 min… at most 15 min,
//! whatever its schedule, and goes back to its schedule with the first
//! cycle that both sides finish.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::schedule::retry_unreachable;
use crate::sync::CycleReport;

/// Cycles in a row that a side stopped, per plugin.
#[derive(Debug, Default)]
pub struct Backoff {
    tries: BTreeMap<String, u32>,
}

/// A plugin's next try, sooner or later than its schedule says.
#[derive(Debug, PartialEq, Eq)]
pub struct Retry {
    pub at: DateTime<Utc>,
    pub wait: Duration,
    /// Cycles in a row that a side stopped, this one included.
    pub tries: u32,
    /// The sides that stopped it.
    pub sides: Vec<&'static str>,
}

impl Backoff {
    /// After a cycle of `plugin` that ended at `now`: the next try when a
    /// side stopped it; `None` (back to the schedule) when none did.
    pub fn after(
        &mut self,
        plugin: &str,
        report: &CycleReport,
        now: DateTime<Utc>,
    ) -> Option<Retry> {
        let sides = report.unreachable();
        if sides.is_empty() {
            self.tries.remove(plugin);
            return None;
        }
        let tries = self.tries.entry(plugin.to_string()).or_insert(0);
        *tries += 1;
        let wait = retry_unreachable(*tries);
        Some(Retry {
            at: now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX),
            wait,
            tries: *tries,
            sides,
        })
    }
}
