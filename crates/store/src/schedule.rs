//! When the running daemon will start each plugin's next cycle, for
//! `labsync status` (which has no other way to know).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::links::parse_time;
use super::{Store, StoreError};

impl Store {
    /// Replaces the recorded plan with `next` (plugin → next cycle).
    pub fn record_schedule(
        &mut self,
        next: &BTreeMap<String, DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let path = self.path().display().to_string();
        let sqlite = |e: rusqlite::Error| StoreError::Sqlite {
            path: path.clone(),
            reason: super::describe(&e),
        };
        let tx = self
            .conn_mut()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        tx.execute("DELETE FROM schedule", []).map_err(sqlite)?;
        for (plugin, at) in next {
            tx.execute(
                "INSERT INTO schedule (plugin, next_run) VALUES (?1, ?2)",
                params![plugin, at.to_rfc3339()],
            )
            .map_err(sqlite)?;
        }
        tx.commit().map_err(sqlite)
    }

    /// The next cycle of `plugin` as the daemon last planned it.
    pub fn next_run(&self, plugin: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        use rusqlite::OptionalExtension;
        let text: Option<String> = self
            .conn()
            .query_row(
                "SELECT next_run FROM schedule WHERE plugin = ?1",
                [plugin],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        text.map(|t| parse_time(self, "schedule", &t)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_plan_replaces_the_previous_one() {
        let mut s = Store::open_in_memory().unwrap();
        let at = Utc::now();
        let plan = BTreeMap::from([("a".to_string(), at), ("b".to_string(), at)]);
        s.record_schedule(&plan).unwrap();
        assert_eq!(s.next_run("a").unwrap(), Some(at));
        s.record_schedule(&BTreeMap::from([("b".to_string(), at)]))
            .unwrap();
        assert_eq!(s.next_run("a").unwrap(), None);
        assert_eq!(s.next_run("b").unwrap(), Some(at));
    }
}
