//! A count of items being synced right now, shared between the engine and
//! the listings it reads from.
//!
//! Both sides' listings page by offset where a whole page shares one
//! timestamp, and a write to an item of that group moves it to the end and
//! shifts the next page: an item would be skipped. A listing therefore waits
//! until no item is in flight before it reads such a page.

use std::sync::Arc;

use tokio::sync::watch;

#[derive(Clone, Debug)]
pub struct InFlight {
    count: Arc<watch::Sender<usize>>,
}

impl Default for InFlight {
    fn default() -> Self {
        InFlight {
            count: Arc::new(watch::Sender::new(0)),
        }
    }
}

/// One item in flight; dropping it (done, failed or cancelled) counts it out.
#[derive(Debug)]
pub struct Entered {
    count: Arc<watch::Sender<usize>>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        self.count.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl InFlight {
    pub fn enter(&self) -> Entered {
        self.count.send_modify(|n| *n += 1);
        Entered {
            count: self.count.clone(),
        }
    }

    pub fn current(&self) -> usize {
        *self.count.borrow()
    }

    /// Returns once no item is in flight.
    pub async fn settled(&self) {
        let mut rx = self.count.subscribe();
        // The sender lives in `self`, so the channel cannot close meanwhile.
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settled_waits_for_the_last_item() {
        let flight = InFlight::default();
        flight.settled().await;
        let a = flight.enter();
        let b = flight.enter();
        assert_eq!(flight.current(), 2);
        let waiter = tokio::spawn({
            let f = flight.clone();
            async move { f.settled().await }
        });
        drop(a);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "one item is still in flight");
        drop(b);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("settled once none is in flight")
            .expect("task");
        assert_eq!(flight.current(), 0);
    }
}
