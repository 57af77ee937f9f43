//! Create intents, the error queue, watermarks and runs.

use chrono::Duration;
use labsync::model::Side;
use labsync::store::progress::PARK_AFTER;

use super::{Inspect, P, Q, StoredRun, assert_constraint, at};

/// Before a create the engine records an intent; finding it again (not
/// fresh) after a crash tells it to look for the item it may have made
/// before making another.
pub fn an_intent_is_fresh_once_until_dropped(s: &mut impl Inspect) {
    let first = s.add_intent(P, 1, "issue", "7", "mark-7", "one").unwrap();
    assert!(first.fresh, "{first:?}");
    assert_eq!(
        (
            first.kind.as_str(),
            first.source_id.as_str(),
            first.marker.as_str(),
            first.payload.as_str()
        ),
        ("issue", "7", "mark-7", "one")
    );
    let again = s.add_intent(P, 1, "issue", "7", "mark-7b", "two").unwrap();
    assert!(!again.fresh, "{again:?}");
    assert_eq!(
        again,
        first.clone().not_fresh(),
        "the first attempt's intent comes back"
    );
    // Another kind, project or plugin is another intent.
    for (plugin, project, kind, marker) in [
        (P, 1, "milestone", "m-a"),
        (P, 2, "issue", "m-b"),
        (Q, 1, "issue", "m-c"),
    ] {
        let other = s
            .add_intent(plugin, project, kind, "7", marker, "")
            .unwrap();
        assert!(other.fresh && other.id != first.id, "{other:?}");
    }
    // A marker names one create.
    assert_constraint(
        s.add_intent(P, 1, "issue", "8", "mark-7", ""),
        "an intent with another's marker",
    );
    assert_constraint(
        s.add_intent("nobody", 1, "issue", "8", "m-n", ""),
        "an intent of an unknown plugin",
    );
    s.drop_intent(first.id).unwrap();
    let after = s.add_intent(P, 1, "issue", "7", "mark-7", "three").unwrap();
    assert!(after.fresh, "a dropped intent came back: {after:?}");
    assert_eq!(after.payload, "three");
}

trait NotFresh {
    fn not_fresh(self) -> Self;
}

impl NotFresh for labsync::sync::storage::Intent {
    fn not_fresh(self) -> Self {
        Self {
            fresh: false,
            ..self
        }
    }
}

/// A failing item is retried later each time (1 min, doubling, at most
/// 6 h), so that a broken item does not cost a request every cycle; the
/// latest cause is what `labsync status` shows.
pub fn a_failing_item_waits_longer_each_time(s: &mut impl Inspect) {
    let mut delays = Vec::new();
    for attempt in 1..=12 {
        let now = at(attempt * 1000);
        let cause = format!("failure {attempt}");
        let n = s
            .record_error(P, 1, Side::TestManagement, 7, &cause, now)
            .unwrap();
        assert_eq!(n, attempt, "attempts counted");
        let queued = s.queued_errors(P, 1).unwrap();
        assert_eq!(queued.len(), 1, "{queued:?}");
        assert_eq!(
            (queued[0].attempts, queued[0].cause.as_str()),
            (attempt, cause.as_str())
        );
        delays.push((queued[0].next_try - now).num_minutes());
    }
    assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360, 360]);
    assert_eq!(
        s.queued_errors(P, 1).unwrap()[0].next_try,
        at(12_000) + Duration::hours(6)
    );
}

/// After PARK_AFTER failures an item waits for `labsync retry` instead of
/// being tried forever.
pub fn an_item_failing_park_after_times_is_parked(s: &mut impl Inspect) {
    for attempt in 1..PARK_AFTER {
        s.record_error(P, 1, Side::IssueTracker, 7, "broken", at(attempt))
            .unwrap();
        let queued = s.queued_errors(P, 1).unwrap();
        assert!(!queued[0].parked, "parked after {attempt} failures");
    }
    s.record_error(P, 1, Side::IssueTracker, 7, "broken", at(PARK_AFTER))
        .unwrap();
    let queued = s.queued_errors(P, 1).unwrap();
    assert!(queued[0].parked, "not parked after {PARK_AFTER} failures");
    assert_eq!(queued[0].attempts, PARK_AFTER);
}

/// An item found to hold nothing left to sync leaves the queue, only it:
/// the queue is per plugin, project, side and item, oldest retry first.
pub fn a_cleared_error_leaves_the_queue(s: &mut impl Inspect) {
    s.record_error(P, 1, Side::TestManagement, 7, "a", at(10))
        .unwrap();
    s.record_error(P, 1, Side::IssueTracker, 7, "b", at(0))
        .unwrap();
    s.record_error(P, 1, Side::TestManagement, 8, "c", at(5))
        .unwrap();
    s.record_error(P, 2, Side::TestManagement, 7, "d", at(0))
        .unwrap();
    s.record_error(Q, 1, Side::TestManagement, 7, "e", at(0))
        .unwrap();
    assert_constraint(
        s.record_error("nobody", 1, Side::TestManagement, 7, "f", at(0)),
        "an error of an unknown plugin",
    );
    let queue = |s: &dyn Inspect, plugin, project| -> Vec<(Side, i64, String)> {
        let errors = s.queued_errors(plugin, project).unwrap();
        errors
            .into_iter()
            .map(|e| (e.side, e.item_id, e.cause))
            .collect()
    };
    assert_eq!(
        queue(s, P, 1),
        [
            (Side::IssueTracker, 7, "b".into()),
            (Side::TestManagement, 8, "c".into()),
            (Side::TestManagement, 7, "a".into())
        ]
    );
    s.clear_error(P, 1, Side::TestManagement, 7).unwrap();
    assert_eq!(
        queue(s, P, 1),
        [
            (Side::IssueTracker, 7, "b".into()),
            (Side::TestManagement, 8, "c".into())
        ]
    );
    assert_eq!(queue(s, P, 2).len(), 1);
    assert_eq!(queue(s, Q, 1).len(), 1);
    // Cleared, it starts over.
    let n = s
        .record_error(P, 1, Side::TestManagement, 7, "a", at(20))
        .unwrap();
    assert_eq!(n, 1);
}

/// A cycle reads changes since its watermark; a late or replayed advance
/// must never move it back, or changes would be read twice (or, moved
/// forward wrongly, missed).
pub fn a_watermark_only_moves_forward(s: &mut impl Inspect) {
    let tm = Side::TestManagement;
    assert_eq!(s.watermark(P, 1, tm).unwrap(), None);
    let later = at(5) + Duration::milliseconds(250);
    s.advance_watermark(P, 1, tm, later).unwrap();
    assert_eq!(s.watermark(P, 1, tm).unwrap(), Some(later));
    s.advance_watermark(P, 1, tm, at(3)).unwrap();
    assert_eq!(s.watermark(P, 1, tm).unwrap(), Some(later), "moved back");
    s.advance_watermark(P, 1, tm, at(9)).unwrap();
    assert_eq!(s.watermark(P, 1, tm).unwrap(), Some(at(9)));
    assert_eq!(s.watermark(P, 1, Side::IssueTracker).unwrap(), None);
    assert_eq!(s.watermark(P, 2, tm).unwrap(), None);
    assert_eq!(s.watermark(Q, 1, tm).unwrap(), None);
    s.advance_watermark(P, 1, Side::IssueTracker, at(1))
        .unwrap();
    assert_eq!(s.watermark(P, 1, Side::IssueTracker).unwrap(), Some(at(1)));
    assert_constraint(
        s.advance_watermark("nobody", 1, tm, at(1)),
        "a watermark of an unknown plugin",
    );
}

/// Every cycle is a run in the audit log (`labsync status` shows the last
/// one's result); events name the run that made them.
pub fn a_run_is_started_and_finished(s: &mut impl Inspect) {
    let first = s.start_run(P, "schedule").unwrap();
    let second = s.start_run(Q, "sync-now").unwrap();
    assert!(second > first, "run ids grow: {first}, {second}");
    let summary = serde_json::json!({"created": 1});
    s.finish_run(first, "partial", &summary).unwrap();
    assert_eq!(
        s.runs(),
        [
            StoredRun {
                id: first,
                plugin: P.into(),
                trigger: "schedule".into(),
                result: Some("partial".into()),
                summary,
            },
            StoredRun {
                id: second,
                plugin: Q.into(),
                trigger: "sync-now".into(),
                result: None,
                summary: serde_json::json!({}),
            }
        ]
    );
    assert_constraint(s.start_run(P, "whenever"), "a run of an unknown trigger");
    assert_constraint(
        s.start_run("nobody", "schedule"),
        "a run of an unknown plugin",
    );
    assert_constraint(
        s.finish_run(second, "fine", &serde_json::json!({})),
        "a run with an unknown result",
    );
    assert_eq!(s.runs().len(), 2);
}
