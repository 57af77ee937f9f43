//! A clock that moves only when a test moves it.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, TimeZone, Utc};

/// The fakes' "now": starts at 2026-01-01T00:00:00Z and stands still until
/// [`MemoryClock::advance`]; writes at one instant share a timestamp, as
/// bursts do on a real server.
#[derive(Clone, Debug)]
pub struct MemoryClock(Arc<Mutex<DateTime<Utc>>>);

impl Default for MemoryClock {
    fn default() -> Self {
        let start = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        MemoryClock(Arc::new(Mutex::new(start)))
    }
}

impl MemoryClock {
    pub fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}
