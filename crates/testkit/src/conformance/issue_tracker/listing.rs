//! "Updated since" listings: what the watermark and the overlap rest on.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use labsync::inflight::InFlight;
use labsync::sync::connector::TrackerEdit;

use super::{create, tracker};
use crate::conformance::TrackerSubject;

async fn listed_iids(s: &TrackerSubject, since: Option<DateTime<Utc>>) -> Vec<u64> {
    tracker(s)
        .changed_since(&s.project, since, InFlight::default())
        .map_ok(|i| i.iid)
        .try_collect()
        .await
        .unwrap()
}

/// Saves an item as a person would (a title edit moves `updated_at` at
/// once; label edits may not, gitlab §13 rule 4).
async fn rename(s: &TrackerSubject, iid: u64, what: &str) {
    let edit = TrackerEdit {
        title: Some(s.unique(what)),
        ..TrackerEdit::default()
    };
    tracker(s).update(&s.project, iid, &edit).await.unwrap();
}

/// The engine's watermark is the last change it saw; the next listing
/// starts there, so the bound must include it (gitlab §4, §13 rule 1:
/// `updated_after` is `>=`, `UpdatedAtFilterable`).
pub async fn listing_bound_is_inclusive(s: &TrackerSubject) {
    let item = create(s, "on the bound").await;
    let listed = listed_iids(s, Some(item.updated_at)).await;
    assert!(
        listed.contains(&item.iid),
        "the item on the bound is not listed"
    );
}

/// The watermark moves forward as items are done, so items come oldest
/// update first, and nothing older than the bound (gitlab §4: the engine
/// asks `order_by=updated_at&sort=asc`; the default is `created_at desc`).
pub async fn listing_is_oldest_update_first(s: &TrackerSubject) {
    let early = create(s, "early").await;
    s.clock.tick().await;
    let a = create(s, "a").await;
    s.clock.tick().await;
    let b = create(s, "b").await;
    s.clock.tick().await;
    rename(s, a.iid, "a again").await;
    let ours = [early.iid, a.iid, b.iid];
    let since = a.updated_at + chrono::Duration::milliseconds(1);
    let listed: Vec<u64> = listed_iids(s, Some(since))
        .await
        .into_iter()
        .filter(|i| ours.contains(i))
        .collect();
    assert_eq!(listed, vec![b.iid, a.iid]);
}

/// A listing spans pages, and the engine saves items while it reads on:
/// an item saved mid-listing jumps to the end and shifts every later one
/// a place, so plain offset pages skip one, and the watermark would then
/// pass it for good (gitlab §3). Every item must come at least once, and
/// only an item saved meanwhile may come twice.
pub async fn listing_skips_nothing_saved_meanwhile(s: &TrackerSubject) {
    let mut ours = Vec::new();
    for n in 0..=s.page_size {
        ours.push(create(s, &format!("paged {n}")).await);
    }
    let iids: Vec<u64> = ours.iter().map(|i| i.iid).collect();
    let mut listing =
        tracker(s).changed_since(&s.project, Some(ours[0].updated_at), InFlight::default());
    let mut seen: HashMap<u64, usize> = HashMap::new();
    let mut saved = Vec::new();
    while let Some(item) = listing.next().await {
        *seen.entry(item.unwrap().iid).or_default() += 1;
        if saved.is_empty() {
            s.clock.tick().await;
            for &early in &iids[..2] {
                rename(s, early, "saved mid-listing").await;
                saved.push(early);
            }
        }
    }
    for i in &iids {
        let n = seen.get(i).copied().unwrap_or(0);
        assert!(n >= 1, "#{i} was skipped ({} items a page)", s.page_size);
        assert!(n == 1 || saved.contains(i), "#{i} came {n} times unchanged");
    }
}

/// Watermarks are the server's time, compared with item dates less an
/// overlap of at least a minute: both must be on one clock.
pub async fn server_clock_stamps_writes(s: &TrackerSubject) {
    let item = create(s, "stamped").await;
    let now = tracker(s)
        .server_now()
        .expect("no server time after an answer");
    let apart = (now - item.updated_at).num_seconds().abs();
    assert!(
        apart < 60,
        "the item is stamped {}, the server says {now}",
        item.updated_at
    );
}
