//! "Changed since" listings: what the watermark and the overlap rest on.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use labsync::inflight::InFlight;

use super::{create, id, rename};
use crate::conformance::TmSubject;

/// The ids a listing since `since` gives, in its order.
pub(super) async fn listed_ids(s: &TmSubject, since: DateTime<Utc>) -> Vec<i64> {
    s.connector
        .changed_since(s.project, since, InFlight::default())
        .map_ok(|i| super::id(&i))
        .try_collect()
        .await
        .unwrap()
}

/// The engine's watermark is the last change it saw; the next listing
/// starts there, so the bound must include it (spira §3.2: DateRangeValue
/// is inclusive).
pub async fn listing_bound_is_inclusive(s: &TmSubject) {
    s.ready().await;
    let item = create(s, "on the bound").await;
    let listed = listed_ids(s, item.updated_at.unwrap()).await;
    assert!(
        listed.contains(&id(&item)),
        "the item on the bound is not listed"
    );
}

/// The watermark moves forward as items are done, so items come oldest
/// change first, and nothing older than the bound (spira §3.1: sorted
/// ascending, the v6 server hard-codes `sortAscending = true`).
pub async fn listing_is_oldest_change_first(s: &TmSubject) {
    s.ready().await;
    let early = create(s, "early").await;
    s.clock.tick().await;
    let a = create(s, "a").await;
    s.clock.tick().await;
    let b = create(s, "b").await;
    s.clock.tick().await;
    rename(s, id(&a), "a again").await;
    let ours = [id(&early), id(&a), id(&b)];
    let listed: Vec<i64> = listed_ids(s, a.updated_at.unwrap() + chrono::Duration::milliseconds(1))
        .await
        .into_iter()
        .filter(|i| ours.contains(i))
        .collect();
    assert_eq!(listed, vec![id(&b), id(&a)]);
}

/// A listing spans pages, and the engine saves items while it reads on: an
/// item saved mid-listing moves to the end and every later row shifts up
/// one, so plain offsets skip one (spira §3.1 paging), and the watermark
/// would then pass it for good. Every item must come at least once, and
/// only an item saved meanwhile may come twice.
pub async fn listing_skips_nothing_saved_meanwhile(s: &TmSubject) {
    s.ready().await;
    let mut ours = Vec::new();
    for n in 0..(2 * s.page_size + 1) {
        ours.push(create(s, &format!("paged {n}")).await);
    }
    let since = ours[0].updated_at.unwrap();
    let ids: Vec<i64> = ours.iter().map(id).collect();
    let mut listing = s
        .connector
        .changed_since(s.project, since, InFlight::default());
    let mut seen: HashMap<i64, usize> = HashMap::new();
    let mut saved = Vec::new();
    while let Some(item) = listing.next().await {
        let got = id(&item.unwrap());
        *seen.entry(got).or_default() += 1;
        // After the first item, the engine saves the first two of ours.
        if saved.is_empty() {
            s.clock.tick().await;
            for &early in &ids[..2] {
                rename(s, early, "saved mid-listing").await;
                saved.push(early);
            }
        }
    }
    for i in &ids {
        let n = seen.get(i).copied().unwrap_or(0);
        assert!(
            n >= 1,
            "item {i} was skipped ({} items a page)",
            s.page_size
        );
        assert!(
            n == 1 || saved.contains(i),
            "item {i} came {n} times unchanged"
        );
    }
}
