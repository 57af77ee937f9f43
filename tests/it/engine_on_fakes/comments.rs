//! Comments: copied both ways, each exactly once.

use labsync::sync::connector::{IssueTracker, TestManagement};

use super::{Fakes, PROJECT, TM_PROJECT, assert_quiet};

#[tokio::test]
async fn comments_are_copied_both_ways_exactly_once() {
    let mut f = Fakes::new("").await;
    let (id, iid) = f.pair("Crash on login").await;
    f.tm.comment_as_person(TM_PROJECT, id, 2, "<p>Seen by the tester</p>")
        .unwrap();
    f.tracker
        .comment_as_person("bob", iid, "Fixed by the developer", false)
        .unwrap();
    // A person's comment does not move a test-management item: the
    // comment sweep finds it, so let a sweep's interval pass each time.
    let mut copied = (0, 0);
    for _ in 0..3 {
        f.later(20);
        let r = f.cycle().await;
        assert_eq!(r.totals().failed, 0, "{r:?}");
        copied.0 += r.totals().comments_to_gitlab;
        copied.1 += r.totals().comments_to_spira;
    }
    assert_eq!(
        copied,
        (1, 1),
        "copies made (to the tracker, to test management)"
    );
    let notes = f.tracker.comments(PROJECT, iid).await.unwrap();
    let of = |text: &str| notes.iter().filter(|n| n.body.contains(text)).count();
    assert_eq!(
        (of("Seen by the tester"), of("Fixed by the developer")),
        (1, 1)
    );
    let comments = f.tm.comments(TM_PROJECT, id).await.unwrap();
    let of = |text: &str| comments.iter().filter(|c| c.html.contains(text)).count();
    assert_eq!(
        (of("Seen by the tester"), of("Fixed by the developer")),
        (1, 1)
    );
    f.later(20);
    let before = f.writes();
    let r = f.cycle().await;
    assert_quiet(&r, before, &f);
}
