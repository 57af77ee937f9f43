//! SIGTERM and SIGINT ask for a stop, SIGHUP for a reload. A listener task
//! turns each into a flag and wakes the loop; the loop and the running
//! cycle look at the flags when it is safe to act.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;

use super::notify::Notifier;

#[derive(Clone)]
pub(crate) struct Flags {
    /// Also handed to the cycle, which stops after the items in hand.
    pub stop: Arc<AtomicBool>,
    pub reload: Arc<AtomicBool>,
    /// Wakes the loop from its sleep between cycles.
    pub wake: Arc<Notify>,
}

/// Starts listening; fails only when signals cannot be registered.
pub(crate) fn listen(notifier: Notifier) -> std::io::Result<Flags> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let flags = Flags {
        stop: Arc::new(AtomicBool::new(false)),
        reload: Arc::new(AtomicBool::new(false)),
        wake: Arc::new(Notify::new()),
    };
    let f = flags.clone();
    tokio::spawn(async move {
        loop {
            let stopping = tokio::select! {
                _ = term.recv() => true,
                _ = int.recv() => true,
                _ = hup.recv() => false,
            };
            if stopping {
                if !f.stop.swap(true, Ordering::SeqCst) {
                    tracing::info!("stopping: finishing the items in hand");
                    notifier.stopping();
                }
            } else {
                tracing::info!("SIGHUP: reloading the configuration");
                f.reload.store(true, Ordering::SeqCst);
            }
            // notify_one keeps a permit if the loop is not waiting yet.
            f.wake.notify_one();
        }
    });
    Ok(flags)
}
