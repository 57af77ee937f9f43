//! Comments: copied both ways, each exactly once, as the conversation goes on.

use labsync::sync::connector::{IssueTracker, TestManagement};

use super::{Fakes, PROJECT, TM_PROJECT, assert_quiet};

/// Cycles until a sweep's interval passed three times: (copies to the
/// tracker, copies to test management) made meanwhile. A person's comment
/// does not move a test-management item: the comment sweep finds it.
async fn settle(f: &mut Fakes) -> (usize, usize) {
    let mut copied = (0, 0);
    for _ in 0..3 {
        f.later(20);
        let r = f.cycle().await;
        assert_eq!(r.totals().failed, 0, "{r:?}");
        copied.0 += r.totals().comments_to_tracker;
        copied.1 += r.totals().comments_to_tm;
    }
    copied
}

#[tokio::test]
async fn comments_are_copied_both_ways_exactly_once() {
    let mut f = Fakes::new("").await;
    let (id, iid) = f.pair("Crash on login").await;
    f.tm.comment_as_person(TM_PROJECT, id, 2, "<p>Seen by the tester</p>")
        .unwrap();
    f.tracker
        .comment_as_person("bob", iid, "Fixed by the developer", false)
        .unwrap();
    assert_eq!(
        settle(&mut f).await,
        (1, 1),
        "copies (to the tracker, to test management)"
    );
    // The conversation goes on: both sides are read again, and what was
    // copied before is not copied again.
    f.tm.comment_as_person(TM_PROJECT, id, 2, "<p>Still seen</p>")
        .unwrap();
    f.tracker
        .comment_as_person("bob", iid, "Fixed again", false)
        .unwrap();
    assert_eq!(settle(&mut f).await, (1, 1), "copies of the second round");
    let texts = [
        "Seen by the tester",
        "Fixed by the developer",
        "Still seen",
        "Fixed again",
    ];
    let notes = f.tracker.comments(PROJECT, iid).await.unwrap();
    let on_tracker: Vec<usize> = texts
        .iter()
        .map(|t| notes.iter().filter(|n| n.body.contains(t)).count())
        .collect();
    assert_eq!(on_tracker, [1, 1, 1, 1], "{notes:#?}");
    let comments = f.tm.comments(TM_PROJECT, id).await.unwrap();
    let on_tm: Vec<usize> = texts
        .iter()
        .map(|t| comments.iter().filter(|c| c.html.contains(t)).count())
        .collect();
    assert_eq!(on_tm, [1, 1, 1, 1], "{comments:#?}");
    f.later(20);
    let before = f.writes();
    let r = f.cycle().await;
    assert_quiet(&r, before, &f);
}
