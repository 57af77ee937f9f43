//! Working through a listing's items: at most `limit` at a time, each
//! listed item once, in listing order for the plan, until the listing ends,
//! a fatal error halts the project, or a stop is asked for.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use labsync_model::Side;
use labsync_model::inflight::InFlight;

use crate::SyncError;
use crate::cycle::stopping;
use crate::pass::ITEM_ORDER;

/// What became of one listed item.
pub(crate) struct Outcome {
    pub side: Side,
    pub item: i64,
    pub changed_at: Option<DateTime<Utc>>,
    pub result: Result<(), SyncError>,
}

/// How the items of one project are worked through: at most `limit` at a
/// time, each listed item once, until the listing ends, a fatal error
/// halts the project, or a stop is asked for.
pub(crate) struct Run<'a> {
    pub limit: usize,
    pub halt: AtomicBool,
    pub stop: Option<&'a AtomicBool>,
    pub in_flight: InFlight,
    /// The order items were listed in, across both sides (for the plan).
    pub order: AtomicU64,
}

impl Run<'_> {
    pub(crate) fn halted(&self) -> bool {
        self.halt.load(Ordering::SeqCst)
    }

    /// No more items are taken: halted, or asked to stop.
    pub(crate) fn cut(&self) -> bool {
        self.halted() || stopping(self.stop)
    }

    /// Feeds the items of `listing` that `admit` lets through to `work`,
    /// `limit` at a time, and hands each outcome to `settle` as it comes.
    /// Returns the listing's error, if it failed; the caller knows from
    /// [`Run::cut`] whether the listing was read to its end.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn each<T, E, Fut>(
        &self,
        listing: impl Stream<Item = Result<T, E>>,
        answered: impl Fn(),
        mut admit: impl FnMut(&T) -> Option<(i64, Option<DateTime<Utc>>)>,
        work: impl Fn(T) -> Fut,
        side: Side,
        mut settle: impl FnMut(Outcome) -> bool,
    ) -> Result<(), E>
    where
        Fut: Future<Output = Result<(), SyncError>>,
    {
        let mut failed = None;
        {
            let items = listing
                .take_while(|_| std::future::ready(!self.cut()))
                .filter_map(|next| {
                    answered();
                    let admitted = match next {
                        Ok(item) => admit(&item).map(|key| (item, key)),
                        Err(e) => {
                            failed = Some(e);
                            None
                        }
                    };
                    std::future::ready(admitted)
                })
                .map(|(item, (id, changed_at))| {
                    let entered = self.in_flight.enter();
                    let order = self.order.fetch_add(1, Ordering::Relaxed);
                    let fut = work(item);
                    ITEM_ORDER.scope(order, async move {
                        let result = fut.await;
                        drop(entered);
                        Outcome {
                            side,
                            item: id,
                            changed_at,
                            result,
                        }
                    })
                })
                .buffer_unordered(self.limit);
            futures_util::pin_mut!(items);
            while let Some(outcome) = items.next().await {
                if settle(outcome) {
                    self.halt.store(true, Ordering::SeqCst);
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
