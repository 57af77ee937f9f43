//! Leases: who runs a cycle of which plugin. A lease is taken in one
//! IMMEDIATE transaction, so two processes can never both see it free; it
//! expires unless renewed, so a crashed holder blocks nobody for long.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::links::parse_time;
use super::{Store, StoreError};

/// The lease row of a running `labsync run` (not a valid plugin name).
pub const DAEMON: &str = "(daemon)";

/// A lease as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub plugin: String,
    /// "pid@hostname:random", unique per process.
    pub holder: String,
    pub pid: Option<i64>,
    pub acquired_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The holder's last sign of life (taking or renewing the lease).
    pub renewed_at: Option<DateTime<Utc>>,
}

impl Lease {
    /// A lease without an expiry time counts as expired: nobody renews it.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|t| t <= now)
    }
}

/// holder, pid, acquired_at, expires_at, renewed_at as stored.
type LeaseRow = (
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Store {
    /// Takes the lease of `plugin` for `ttl` when it is free, expired or
    /// already ours. Returns false when someone else holds it.
    pub fn try_acquire(
        &mut self,
        plugin: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        let current = self.lease(plugin)?;
        if current
            .as_ref()
            .is_some_and(|l| l.holder != holder && !l.expired(now))
        {
            return Ok(false);
        }
        let path = self.path().display().to_string();
        let sqlite = |e: rusqlite::Error| StoreError::Sqlite {
            path: path.clone(),
            reason: super::describe(&e),
        };
        // Read and write under one write lock: the check above was only a
        // cheap early answer; this one decides.
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        let row: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT holder, expires_at FROM leases WHERE plugin = ?1",
                params![plugin],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sqlite)?;
        if let Some((other, expires)) = row {
            let live = expires
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .is_some_and(|t| t.with_timezone(&Utc) > now);
            if other != holder && live {
                return Ok(false);
            }
        }
        tx.execute(
            "INSERT INTO leases (plugin, holder, pid, acquired_at, expires_at, renewed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?4)
             ON CONFLICT (plugin) DO UPDATE
             SET holder = ?2, pid = ?3, acquired_at = ?4, expires_at = ?5, renewed_at = ?4",
            params![
                plugin,
                holder,
                i64::from(std::process::id()),
                now.to_rfc3339(),
                (now + ttl).to_rfc3339()
            ],
        )
        .map_err(sqlite)?;
        tx.commit().map_err(sqlite)?;
        Ok(true)
    }

    /// Pushes back the expiry of every lease `holder` has. Returns how many
    /// it still holds (0: they were lost, e.g. taken over after expiring).
    pub fn renew(&mut self, holder: &str, ttl: Duration) -> Result<usize, StoreError> {
        let now = Utc::now();
        self.conn()
            .execute(
                "UPDATE leases SET expires_at = ?2, renewed_at = ?3 WHERE holder = ?1",
                params![holder, (now + ttl).to_rfc3339(), now.to_rfc3339()],
            )
            .map_err(|e| self.err(e))
    }

    /// Gives the lease of `plugin` up, if `holder` has it.
    pub fn release(&mut self, plugin: &str, holder: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "DELETE FROM leases WHERE plugin = ?1 AND holder = ?2",
                params![plugin, holder],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn lease(&self, plugin: &str) -> Result<Option<Lease>, StoreError> {
        let row: Option<LeaseRow> = self
            .conn()
            .query_row(
                "SELECT holder, pid, acquired_at, expires_at, renewed_at FROM leases WHERE plugin = ?1",
                params![plugin],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((holder, pid, acquired, expires, renewed)) = row else {
            return Ok(None);
        };
        let time = |t: Option<String>| t.map(|t| parse_time(self, "leases", &t)).transpose();
        Ok(Some(Lease {
            plugin: plugin.to_string(),
            holder,
            pid,
            acquired_at: time(acquired)?,
            expires_at: time(expires)?,
            renewed_at: time(renewed)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("labsync.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn a_free_lease_is_taken_and_refused_to_others_while_held() {
        let (_dir, mut s) = store();
        let ttl = Duration::minutes(2);
        assert!(s.try_acquire("web", "1@a:x", ttl).unwrap());
        assert!(!s.try_acquire("web", "2@b:y", ttl).unwrap());
        // Taking it again is a renewal, not a refusal.
        assert!(s.try_acquire("web", "1@a:x", ttl).unwrap());
        // Another plugin's lease is independent.
        assert!(s.try_acquire("mobile", "2@b:y", ttl).unwrap());
        let lease = s.lease("web").unwrap().unwrap();
        assert_eq!(lease.holder, "1@a:x");
        assert!(lease.renewed_at.is_some_and(|t| t <= Utc::now()));
        assert_eq!(lease.pid, Some(i64::from(std::process::id())));
        assert!(!lease.expired(Utc::now()));
    }

    #[test]
    fn an_expired_lease_is_taken_over() {
        let (_dir, mut s) = store();
        assert!(
            s.try_acquire("web", "1@a:x", Duration::seconds(-1))
                .unwrap()
        );
        assert!(s.try_acquire("web", "2@b:y", Duration::minutes(2)).unwrap());
        assert_eq!(s.lease("web").unwrap().unwrap().holder, "2@b:y");
        // The old holder's renewal finds nothing left to renew.
        assert_eq!(s.renew("1@a:x", Duration::minutes(2)).unwrap(), 0);
    }

    #[test]
    fn a_released_lease_is_free_and_only_its_holder_releases_it() {
        let (_dir, mut s) = store();
        let ttl = Duration::minutes(2);
        assert!(s.try_acquire("web", "1@a:x", ttl).unwrap());
        s.release("web", "2@b:y").unwrap();
        assert!(s.lease("web").unwrap().is_some());
        s.release("web", "1@a:x").unwrap();
        assert!(s.lease("web").unwrap().is_none());
        assert!(s.try_acquire("web", "2@b:y", ttl).unwrap());
    }

    #[test]
    fn renewing_moves_the_expiry_of_every_lease_of_the_holder() {
        let (_dir, mut s) = store();
        assert!(s.try_acquire("web", "1@a:x", Duration::seconds(1)).unwrap());
        assert!(
            s.try_acquire(DAEMON, "1@a:x", Duration::seconds(1))
                .unwrap()
        );
        let taken = s.lease("web").unwrap().unwrap().renewed_at;
        assert_eq!(s.renew("1@a:x", Duration::minutes(5)).unwrap(), 2);
        // The heartbeat moves with the renewal.
        assert!(s.lease("web").unwrap().unwrap().renewed_at >= taken);
        let later = Utc::now() + Duration::minutes(4);
        assert!(!s.lease("web").unwrap().unwrap().expired(later));
        assert!(!s.lease(DAEMON).unwrap().unwrap().expired(later));
    }

    #[test]
    fn two_connections_never_both_get_the_lease() {
        let (dir, mut a) = store();
        let mut b = Store::open(&dir.path().join("labsync.db")).unwrap();
        let ttl = Duration::minutes(2);
        let got_a = a.try_acquire("web", "1@a:x", ttl).unwrap();
        let got_b = b.try_acquire("web", "2@b:y", ttl).unwrap();
        assert!(got_a && !got_b);
    }
}
