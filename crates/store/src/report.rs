//! Read-only summaries for `labsync status`, and the one write `labsync
//! retry` needs: making queued errors due now.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::links::parse_time;
use super::mappings::TxError;
use super::{Store, StoreError};
use labsync_model::{Connectors, Side};

/// The latest cycle of a plugin, finished or not.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunReport {
    pub id: i64,
    pub trigger: String,
    pub started_at: DateTime<Utc>,
    /// `None` while the cycle runs (or when it died without finishing).
    pub finished_at: Option<DateTime<Utc>>,
    pub result: Option<String>,
    pub summary: serde_json::Value,
}

impl RunReport {
    /// Why the cycle failed: one line per project that could not sync.
    pub fn causes(&self) -> Vec<String> {
        self.summary["fatal"]
            .as_array()
            .map(|c| {
                c.iter()
                    .filter_map(|c| c.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Links of one project mapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LinkCounts {
    pub total: i64,
    pub orphaned: i64,
}

/// The error queue of one project mapping, in short.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ErrorSummary {
    pub pending: i64,
    pub parked: i64,
    /// The cause of the most recently seen failure.
    pub last_cause: Option<String>,
}

/// One row of the error queue, as `labsync status --errors` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorRow {
    pub id: i64,
    pub plugin: String,
    pub spira_project: i64,
    /// The connector on the item's side, as plugins.toml names it ("spira").
    pub side: String,
    pub item_id: i64,
    pub attempts: i64,
    pub next_try: DateTime<Utc>,
    pub parked: bool,
    pub cause: String,
}

impl Store {
    pub fn latest_run(&self, plugin: &str) -> Result<Option<RunReport>, StoreError> {
        type Raw = (i64, String, String, Option<String>, Option<String>, String);
        let raw: Option<Raw> = self
            .conn()
            .query_row(
                "SELECT id, trigger, started_at, finished_at, result, summary FROM runs
                 WHERE plugin = ?1 ORDER BY id DESC LIMIT 1",
                [plugin],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((id, trigger, started, finished, result, summary)) = raw else {
            return Ok(None);
        };
        Ok(Some(RunReport {
            id,
            trigger,
            started_at: parse_time(self, "runs", &started)?,
            finished_at: finished.map(|t| parse_time(self, "runs", &t)).transpose()?,
            result,
            summary: serde_json::from_str(&summary)
                .map_err(|e| self.corrupt("runs.summary", e.to_string()))?,
        }))
    }

    /// False for a plugin disabled in plugins.toml or gone from it: its
    /// cycles do not run, so they say nothing about health.
    pub fn plugin_scheduled(&self, plugin: &str) -> Result<bool, StoreError> {
        self.conn()
            .query_row(
                "SELECT enabled AND in_config FROM plugins WHERE name = ?1",
                [plugin],
                |r| r.get(0),
            )
            .optional()
            .map(|v| v.unwrap_or(false))
            .map_err(|e| self.err(e))
    }

    /// When the plugin's last cycle that got through ended (items may have
    /// failed in it: they are in the error queue).
    pub fn last_success(&self, plugin: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let text: Option<String> = self
            .conn()
            .query_row(
                "SELECT finished_at FROM runs
                 WHERE plugin = ?1 AND result IN ('ok', 'partial') AND finished_at IS NOT NULL
                 ORDER BY id DESC LIMIT 1",
                [plugin],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        text.map(|t| parse_time(self, "runs", &t)).transpose()
    }

    /// The stale mapping rows met by the plugin's last cycle that read its
    /// mapping tables (a quiet cycle does not read them).
    pub fn stale_mappings(&self, plugin: &str) -> Result<Vec<String>, StoreError> {
        let summary: Option<String> = self
            .conn()
            .query_row(
                "SELECT summary FROM runs WHERE plugin = ?1 AND summary LIKE '%\"stale_mappings\"%'
                 ORDER BY id DESC LIMIT 1",
                [plugin],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(summary) = summary else {
            return Ok(Vec::new());
        };
        let value: serde_json::Value = serde_json::from_str(&summary)
            .map_err(|e| self.corrupt("runs.summary", e.to_string()))?;
        Ok(value["stale_mappings"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| r.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub fn link_counts(&self, plugin: &str, project: i64) -> Result<LinkCounts, StoreError> {
        self.conn()
            .query_row(
                "SELECT count(*), count(orphaned) FROM links WHERE plugin = ?1 AND tm_project = ?2",
                params![plugin, project],
                |r| {
                    Ok(LinkCounts {
                        total: r.get(0)?,
                        orphaned: r.get(1)?,
                    })
                },
            )
            .map_err(|e| self.err(e))
    }

    pub fn error_summary(&self, plugin: &str, project: i64) -> Result<ErrorSummary, StoreError> {
        let (pending, parked): (i64, i64) = self
            .conn()
            .query_row(
                "SELECT count(*), coalesce(sum(parked), 0) FROM errors WHERE plugin = ?1 AND tm_project = ?2",
                params![plugin, project],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))?;
        let last_cause = self
            .conn()
            .query_row(
                "SELECT cause FROM errors WHERE plugin = ?1 AND tm_project = ?2
                 ORDER BY last_seen DESC, id DESC LIMIT 1",
                params![plugin, project],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(ErrorSummary {
            pending,
            parked,
            last_cause,
        })
    }

    /// The whole error queue, soonest retry first.
    pub fn error_queue(&self) -> Result<Vec<ErrorRow>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT e.id, e.plugin, e.tm_project, e.side, e.item_id, e.attempts, e.next_try, e.parked, e.cause,
                    p.tm_connector, p.tracker_connector
                 FROM errors e LEFT JOIN project_mappings p ON p.plugin = e.plugin AND p.tm_project = e.tm_project
                 ORDER BY e.next_try, e.id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    (
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get::<_, String>(3)?,
                        r.get(4)?,
                    ),
                    (r.get(5)?, r.get::<_, String>(6)?, r.get(7)?, r.get(8)?),
                    (
                        r.get::<_, Option<String>>(9)?,
                        r.get::<_, Option<String>>(10)?,
                    ),
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (
                (id, plugin, spira_project, side, item_id),
                (attempts, next, parked, cause),
                (tm_connector, tracker_connector),
            ) = row.map_err(|e| self.err(e))?;
            let side = Side::from_stored("errors.side", &side)
                .map_err(|e| self.corrupt("errors", e.to_string()))?;
            // Named by the connector on that side, as plugins.toml names it
            // (the project mapping may be gone: then today's pair).
            let connector = match side {
                Side::TestManagement => tm_connector,
                Side::IssueTracker => tracker_connector,
            };
            out.push(ErrorRow {
                id,
                plugin,
                spira_project,
                side: connector
                    .unwrap_or_else(|| Connectors::SPIRA_GITLAB.on(side).name.to_string()),
                item_id,
                attempts,
                next_try: parse_time(self, "errors", &next)?,
                parked,
                cause,
            });
        }
        Ok(out)
    }

    /// Makes queued errors due at `now` and unparks them: the listed ids, or
    /// every one when `ids` is `None`. An unknown id refuses the whole call,
    /// so nothing changes. Returns the ids made due.
    pub fn retry_errors(
        &mut self,
        ids: Option<&[i64]>,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let at = now.to_rfc3339();
        self.in_tx(|tx| {
            let targets: Vec<i64> = match ids {
                Some(ids) => {
                    let mut found = Vec::new();
                    for &id in ids {
                        let exists = tx
                            .query_row("SELECT 1 FROM errors WHERE id = ?1", [id], |_| Ok(()))
                            .optional()?
                            .is_some();
                        if !exists {
                            return Err(TxError::Refused(format!(
                                "no queued error has id {id} (see labsync status --errors); nothing was changed"
                            )));
                        }
                        if !found.contains(&id) {
                            found.push(id);
                        }
                    }
                    found
                }
                None => {
                    let mut stmt = tx.prepare("SELECT id FROM errors ORDER BY id")?;
                    let rows = stmt.query_map([], |r| r.get(0))?;
                    rows.collect::<Result<_, _>>()?
                }
            };
            for id in &targets {
                tx.execute(
                    "UPDATE errors SET next_try = ?2, parked = 0 WHERE id = ?1",
                    params![id, at],
                )?;
            }
            Ok(targets)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declared::{Declared, DeclaredPlugin, DeclaredProject};
    use labsync_model::Side;

    fn store() -> Store {
        let mut store = Store::open_in_memory().unwrap();
        let project = DeclaredProject {
            spira_project: 1,
            gitlab_project: "g/p".into(),
            active: true,
            rows: vec![],
        };
        let plugin = DeclaredPlugin {
            name: "p".into(),
            caption: "p".into(),
            enabled: true,
            projects: vec![project],
        };
        store
            .apply_config(Declared {
                file: "plugins.toml".into(),
                plugins: vec![plugin],
            })
            .unwrap();
        store
    }

    #[test]
    fn the_latest_run_is_the_last_started_even_unfinished() {
        let mut s = store();
        assert_eq!(s.latest_run("p").unwrap(), None);
        let first = s.start_run("p", "schedule").unwrap();
        s.finish_run(first, "ok", &serde_json::json!({})).unwrap();
        let second = s.start_run("p", "sync-now").unwrap();
        let run = s.latest_run("p").unwrap().unwrap();
        assert_eq!((run.id, run.finished_at, run.result), (second, None, None));
    }

    #[test]
    fn an_unknown_id_leaves_the_queue_as_it_was() {
        let mut s = store();
        let then = Utc::now() - chrono::Duration::hours(1);
        s.record_error("p", 1, Side::TestManagement, 5, "boom", then)
            .unwrap();
        let before = s.error_queue().unwrap();
        let err = s.retry_errors(Some(&[before[0].id, 77]), Utc::now());
        assert!(matches!(err, Err(StoreError::Refused(m)) if m.contains("77")));
        assert_eq!(s.error_queue().unwrap(), before);
        let summary = s.error_summary("p", 1).unwrap();
        assert_eq!(
            (summary.pending, summary.last_cause.as_deref()),
            (1, Some("boom"))
        );
        let now = Utc::now();
        assert_eq!(s.retry_errors(None, now).unwrap(), [before[0].id]);
        assert_eq!(s.error_queue().unwrap()[0].next_try, now);
    }
}
