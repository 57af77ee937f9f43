//! Where each plugin and project stands: watermarks, pending create
//! intents, the error queue and the run log.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, params};

use super::links::parse_time;
use super::{Store, StoreError};
pub use labsync_engine::storage::{Intent, QueuedError};
use labsync_model::Side;

const INTENT_COLUMNS: &str = "SELECT id, kind, source_id, marker, payload, created_at FROM intents";

/// An intent row (not fresh) and its time as stored.
fn intent_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Intent, String)> {
    let intent = Intent {
        id: r.get(0)?,
        kind: r.get(1)?,
        source_id: r.get(2)?,
        marker: r.get(3)?,
        payload: r.get(4)?,
        fresh: false,
        created_at: DateTime::<Utc>::MIN_UTC,
    };
    Ok((intent, r.get(5)?))
}

/// Failures before an item is parked and waits for `labsync retry`.
pub const PARK_AFTER: i64 = 10;

/// Backoff of a failing item: 1 min, doubling, at most 6 h.
fn retry_delay(attempts: i64) -> Duration {
    let minutes = 1i64 << attempts.clamp(1, 10).saturating_sub(1);
    Duration::minutes(minutes.min(360))
}

impl Store {
    pub fn watermark(
        &self,
        plugin: &str,
        project: i64,
        side: Side,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let text: Option<String> = self
            .conn()
            .query_row(
                "SELECT at FROM watermarks WHERE plugin = ?1 AND tm_project = ?2 AND side = ?3",
                params![plugin, project, side.stored_name()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        text.map(|t| parse_time(self, "watermarks", &t)).transpose()
    }

    /// Moves a watermark; never backwards (use a reset for that).
    pub fn advance_watermark(
        &mut self,
        plugin: &str,
        project: i64,
        side: Side,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if self
            .watermark(plugin, project, side)?
            .is_some_and(|current| current >= at)
        {
            return Ok(());
        }
        self.conn()
            .execute(
                "INSERT INTO watermarks (plugin, tm_project, side, at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (plugin, tm_project, side) DO UPDATE SET at = ?4",
                params![plugin, project, side.stored_name(), at.to_rfc3339()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records a create before it is attempted; the same source item gets the same intent back.
    pub fn add_intent(
        &mut self,
        plugin: &str,
        project: i64,
        kind: &str,
        source_id: &str,
        marker: &str,
        payload: &str,
    ) -> Result<Intent, StoreError> {
        let inserted = self
            .conn()
            .execute(
                "INSERT INTO intents (plugin, tm_project, kind, source_id, marker, payload, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (plugin, tm_project, kind, source_id) DO NOTHING",
                params![plugin, project, kind, source_id, marker, payload, Utc::now().to_rfc3339()],
            )
            .map_err(|e| self.err(e))?;
        let (intent, at) = self
            .conn()
            .query_row(
                &format!("{INTENT_COLUMNS} WHERE plugin = ?1 AND tm_project = ?2 AND kind = ?3 AND source_id = ?4"),
                params![plugin, project, kind, source_id],
                intent_row,
            )
            .map_err(|e| self.err(e))?;
        Ok(Intent {
            fresh: inserted == 1,
            created_at: parse_time(self, "intents", &at)?,
            ..intent
        })
    }

    pub fn pending_intents(&self, plugin: &str, project: i64) -> Result<Vec<Intent>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare(&format!(
                "{INTENT_COLUMNS} WHERE plugin = ?1 AND tm_project = ?2 ORDER BY id"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![plugin, project], intent_row)
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(intent, at)| {
                Ok(Intent {
                    created_at: parse_time(self, "intents", &at)?,
                    ..intent
                })
            })
            .collect()
    }

    pub fn drop_intent(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM intents WHERE id = ?1", [id])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Takes an item off the error queue: it was found to hold nothing left
    /// to sync (a successful sync clears its pair in `commit_item`).
    pub fn clear_error(
        &mut self,
        plugin: &str,
        project: i64,
        side: Side,
        item: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "DELETE FROM errors WHERE plugin = ?1 AND tm_project = ?2 AND side = ?3 AND item_id = ?4",
                params![plugin, project, side.stored_name(), item],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Queues (or re-queues) a failed item with backoff; returns its attempts so far.
    pub fn record_error(
        &mut self,
        plugin: &str,
        project: i64,
        side: Side,
        item_id: i64,
        cause: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let attempts: i64 = self
            .conn()
            .query_row(
                "SELECT attempts FROM errors WHERE plugin = ?1 AND tm_project = ?2 AND side = ?3 AND item_id = ?4",
                params![plugin, project, side.stored_name(), item_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .map_or(1, |a: i64| a + 1);
        let next = now + retry_delay(attempts);
        self.conn()
            .execute(
                "INSERT INTO errors (plugin, tm_project, side, item_id, cause, attempts, first_seen, last_seen, next_try, parked)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9)
                 ON CONFLICT (plugin, tm_project, side, item_id)
                 DO UPDATE SET cause = ?5, attempts = ?6, last_seen = ?7, next_try = ?8, parked = ?9",
                params![plugin, project, side.stored_name(), item_id, cause, attempts, now.to_rfc3339(), next.to_rfc3339(), attempts >= PARK_AFTER],
            )
            .map_err(|e| self.err(e))?;
        Ok(attempts)
    }

    pub fn queued_errors(
        &self,
        plugin: &str,
        project: i64,
    ) -> Result<Vec<QueuedError>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT side, item_id, cause, attempts, next_try, parked FROM errors
                 WHERE plugin = ?1 AND tm_project = ?2 ORDER BY next_try",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![plugin, project], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get::<_, String>(4)?,
                    r.get(5)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (side, item_id, cause, attempts, next_try, parked) =
                row.map_err(|e| self.err(e))?;
            out.push(QueuedError {
                side: Side::from_stored("errors.side", &side)
                    .map_err(|e| self.corrupt("errors", e.to_string()))?,
                item_id,
                cause,
                attempts,
                next_try: parse_time(self, "errors", &next_try)?,
                parked,
            });
        }
        Ok(out)
    }

    /// Starts a run in the audit log; returns its id.
    pub fn start_run(&mut self, plugin: &str, trigger: &str) -> Result<i64, StoreError> {
        self.conn()
            .execute(
                "INSERT INTO runs (plugin, trigger, started_at) VALUES (?1, ?2, ?3)",
                params![plugin, trigger, Utc::now().to_rfc3339()],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn().last_insert_rowid())
    }

    pub fn finish_run(
        &mut self,
        run_id: i64,
        result: &str,
        summary: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE runs SET finished_at = ?2, result = ?3, summary = ?4 WHERE id = ?1",
                params![run_id, Utc::now().to_rfc3339(), result, summary.to_string()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}
