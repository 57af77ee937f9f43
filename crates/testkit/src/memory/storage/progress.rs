//! Create intents, the error queue (with the store's backoff and
//! parking), watermarks and runs.

use chrono::{DateTime, Duration, Utc};
use labsync::model::Side;
use labsync::store::progress::PARK_AFTER;
use labsync::sync::storage::{Intent, QueuedError};

use super::{MemoryStorage, StoreError, constraint};
use crate::conformance::storage::StoredRun;

/// The kinds of create the intents table's CHECK allows.
const INTENT_KINDS: [&str; 7] = [
    "issue",
    "incident",
    "note",
    "comment",
    "milestone",
    "release",
    "label",
];
const TRIGGERS: [&str; 4] = ["schedule", "sync-now", "webhook", "demo"];
const RESULTS: [&str; 4] = ["ok", "partial", "failed", "interrupted"];

/// The store's backoff: 1 min, doubling, at most 6 h.
fn retry_delay(attempts: i64) -> Duration {
    let minutes = 1i64 << (attempts.clamp(1, 10) - 1);
    Duration::minutes(minutes.min(360))
}

fn check(allowed: &[&str], value: &str, column: &str) -> Result<(), StoreError> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(constraint(format!(
            "CHECK constraint failed: {column} '{value}'"
        )))
    }
}

impl MemoryStorage {
    pub(super) fn intend(
        &mut self,
        plugin: &str,
        project: i64,
        kind: &str,
        source_id: &str,
        marker: &str,
        payload: &str,
    ) -> Result<Intent, StoreError> {
        self.known_plugin(plugin, "intents")?;
        check(&INTENT_KINDS, kind, "intents.kind")?;
        let found = self.intents.iter().find(|(p, pr, i)| {
            p == plugin && *pr == project && i.kind == kind && i.source_id == source_id
        });
        if let Some((_, _, i)) = found {
            return Ok(i.clone());
        }
        if self.intents.iter().any(|(_, _, i)| i.marker == marker) {
            return Err(constraint(
                "UNIQUE constraint failed: intents.marker".into(),
            ));
        }
        let intent = Intent {
            id: self.next_id("intents"),
            kind: kind.to_string(),
            source_id: source_id.to_string(),
            marker: marker.to_string(),
            payload: payload.to_string(),
            fresh: false,
            created_at: Utc::now(),
        };
        self.intents
            .push((plugin.to_string(), project, intent.clone()));
        Ok(Intent {
            fresh: true,
            ..intent
        })
    }

    pub(super) fn queue_error(
        &mut self,
        plugin: &str,
        project: i64,
        side: Side,
        item_id: i64,
        cause: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.known_plugin(plugin, "errors")?;
        let at = self.errors.iter().position(|(p, pr, e)| {
            p == plugin && *pr == project && e.side == side && e.item_id == item_id
        });
        let attempts = at.map_or(1, |i| self.errors[i].2.attempts + 1);
        let queued = QueuedError {
            side,
            item_id,
            cause: cause.to_string(),
            attempts,
            next_try: now + retry_delay(attempts),
            parked: attempts >= PARK_AFTER,
        };
        match at {
            Some(i) => self.errors[i].2 = queued,
            None => self.errors.push((plugin.to_string(), project, queued)),
        }
        Ok(attempts)
    }

    /// Moves a watermark; never backwards.
    pub(super) fn advance(
        &mut self,
        plugin: &str,
        project: i64,
        side: Side,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = (plugin.to_string(), project, side.stored_name());
        if self
            .watermarks
            .get(&key)
            .is_some_and(|current| *current >= at)
        {
            return Ok(());
        }
        self.known_plugin(plugin, "watermarks")?;
        self.watermarks.insert(key, at);
        Ok(())
    }

    pub(super) fn start(&mut self, plugin: &str, trigger: &str) -> Result<i64, StoreError> {
        self.known_plugin(plugin, "runs")?;
        check(&TRIGGERS, trigger, "runs.trigger")?;
        let id = self.next_id("runs");
        self.runs.push(StoredRun {
            id,
            plugin: plugin.to_string(),
            trigger: trigger.to_string(),
            result: None,
            summary: serde_json::json!({}),
        });
        Ok(id)
    }

    pub(super) fn finish(
        &mut self,
        run_id: i64,
        result: &str,
        summary: &serde_json::Value,
    ) -> Result<(), StoreError> {
        if let Some(run) = self.runs.iter_mut().find(|r| r.id == run_id) {
            check(&RESULTS, result, "runs.result")?;
            run.result = Some(result.to_string());
            run.summary = summary.clone();
        }
        Ok(())
    }
}
