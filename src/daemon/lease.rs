//! Holding a plugin's lease for the whole length of a cycle, shared by
//! `labsync run` and `labsync sync`: take it (or wait for it), renew it while
//! the cycle runs, give it back at the end.
//!
//! Leases live in the same database but go through a second connection, so
//! they can be renewed while the cycle has the first one borrowed.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use crate::store::lease::Lease;
use crate::store::{Store, StoreError};

/// How long a lease lasts without renewal: a crashed holder blocks others
/// for at most this long (less on the same host, see [`Leases::try_take`]).
pub const TTL: Duration = Duration::from_secs(120);
/// Renewed this often, well inside the TTL.
pub const RENEW_EVERY: Duration = Duration::from_secs(30);

pub struct Leases {
    store: Store,
    holder: String,
}

impl Leases {
    pub fn open(db: &Path) -> Result<Leases, StoreError> {
        Ok(Leases {
            store: Store::open(db)?,
            holder: holder_id(),
        })
    }

    /// "pid@hostname:random": unique per process, readable in messages.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Takes the lease of `plugin`. `Ok(None)`: it is ours; `Ok(Some(l))`:
    /// another live process holds it. A lease left by a dead process on
    /// this host is taken over at once instead of after its TTL.
    pub fn try_take(&mut self, plugin: &str) -> Result<Option<Lease>, StoreError> {
        for _ in 0..2 {
            if self.store.try_acquire(plugin, &self.holder, ttl())? {
                return Ok(None);
            }
            match self.store.lease(plugin)? {
                Some(other) if holder_is_dead(&other) => {
                    tracing::warn!(plugin, holder = %other.holder, "taking over the lease of a process that is gone");
                    self.store.release(plugin, &other.holder)?;
                }
                Some(other) => return Ok(Some(other)),
                // Released between the two reads: try again.
                None => {}
            }
        }
        self.store.lease(plugin)
    }

    /// Like [`Leases::try_take`], polling with backoff for up to `max_wait`.
    pub async fn wait_take(
        &mut self,
        plugin: &str,
        max_wait: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        let deadline = tokio::time::Instant::now() + max_wait;
        let mut pause = Duration::from_millis(100);
        loop {
            let held = self.try_take(plugin)?;
            let now = tokio::time::Instant::now();
            if held.is_none() || now >= deadline {
                return Ok(held);
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    /// Renews every lease this process holds.
    pub fn renew(&mut self) {
        match self.store.renew(&self.holder, ttl()) {
            Ok(0) => tracing::warn!(holder = %self.holder, "no lease left to renew"),
            Ok(_) => {}
            Err(e) => tracing::error!(cause = %e, "could not renew the lease"),
        }
    }

    pub fn release(&mut self, plugin: &str) {
        if let Err(e) = self.store.release(plugin, &self.holder) {
            tracing::error!(plugin, cause = %e, "could not release the lease; it expires by itself");
        }
    }

    /// Runs `work` (a cycle of `plugin`, whose lease must be ours),
    /// renewing the lease while it runs and releasing it afterwards.
    pub async fn hold_during<F: Future>(&mut self, plugin: &str, work: F) -> F::Output {
        let mut renew = tokio::time::interval(RENEW_EVERY);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        renew.tick().await;
        tokio::pin!(work);
        let out = loop {
            tokio::select! {
                out = &mut work => break out,
                _ = renew.tick() => self.renew(),
            }
        };
        self.release(plugin);
        out
    }
}

fn ttl() -> chrono::Duration {
    chrono::Duration::from_std(TTL).unwrap_or(chrono::Duration::minutes(2))
}

fn holder_id() -> String {
    format!(
        "{}@{}:{:08x}",
        std::process::id(),
        hostname(),
        rand::random::<u32>()
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// True only when the holder ran on this host and its process is gone; a
/// holder elsewhere is trusted until its lease expires.
fn holder_is_dead(lease: &Lease) -> bool {
    let Some((pid, rest)) = lease.holder.split_once('@') else {
        return false;
    };
    let host = rest.rsplit_once(':').map_or(rest, |(h, _)| h);
    host == hostname()
        && pid
            .parse::<i32>()
            .is_ok_and(|pid| pid > 0 && process_is_gone(pid))
}

/// Asks the kernel, not /proc: under the unit's ProtectProc=invisible the
/// service cannot see a shell user's `labsync sync` in /proc, and taking
/// that one's lease would mean syncing twice. Signal 0 delivers nothing;
/// ESRCH means no such process, EPERM means alive but not ours.
fn process_is_gone(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_held_lease_is_refused_until_released_and_a_dead_holder_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("labsync.db");
        let mut a = Leases::open(&db).unwrap();
        let mut b = Leases::open(&db).unwrap();
        assert_ne!(a.holder(), b.holder());
        assert!(a.try_take("web").unwrap().is_none());
        let held = b
            .wait_take("web", Duration::from_millis(300))
            .await
            .unwrap();
        assert_eq!(held.unwrap().holder, a.holder());
        // Released at the end of the work, so b gets it.
        a.hold_during("web", async {}).await;
        assert!(b.try_take("web").unwrap().is_none());

        // A holder on this host whose process is gone (pid above pid_max).
        let mut store = Store::open(&db).unwrap();
        let dead = format!("99999999@{}:0", hostname());
        let ttl = chrono::Duration::minutes(2);
        assert!(store.try_acquire("mobile", &dead, ttl).unwrap());
        assert!(a.try_take("mobile").unwrap().is_none());
        // A live holder elsewhere is respected, and so is one here that is
        // alive but not ours to see (pid 1 answers EPERM or is visible).
        assert!(store.try_acquire("api", "1@elsewhere:0", ttl).unwrap());
        assert!(a.try_take("api").unwrap().is_some());
        let init = format!("1@{}:0", hostname());
        assert!(store.try_acquire("ui", &init, ttl).unwrap());
        assert!(a.try_take("ui").unwrap().is_some());
        assert!(!process_is_gone(std::process::id() as i32));
    }
}
