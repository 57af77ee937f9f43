//! Random interleavings of human edits on both sides with sync cycles in
//! between: once the edits stop, two cycles leave both sides equal under
//! the mappings, with no duplicate issue, incident or comment.

use labsync_testkit::world;

use proptest::prelude::*;
use world::World;

#[derive(Clone, Debug)]
enum Op {
    NewIncident,
    NewIssue,
    SpiraTitle(usize),
    GitLabTitle(usize),
    SpiraStatus(usize, u32),
    GitLabState(usize, bool),
    SpiraPriority(usize, Option<u32>),
    GitLabPriority(usize, Option<u32>),
    SpiraComment(usize),
    GitLabNote(usize),
    Cycle,
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::NewIncident),
        2 => Just(Op::NewIssue),
        1 => any::<usize>().prop_map(Op::SpiraTitle),
        1 => any::<usize>().prop_map(Op::GitLabTitle),
        1 => (any::<usize>(), 1u32..=8).prop_map(|(k, s)| Op::SpiraStatus(k, s)),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(k, o)| Op::GitLabState(k, o)),
        2 => (any::<usize>(), prop::option::of(1u32..=4)).prop_map(|(k, p)| Op::SpiraPriority(k, p)),
        2 => (any::<usize>(), prop::option::of(1u32..=4)).prop_map(|(k, p)| Op::GitLabPriority(k, p)),
        1 => any::<usize>().prop_map(Op::SpiraComment),
        1 => any::<usize>().prop_map(Op::GitLabNote),
        3 => Just(Op::Cycle),
        1 => (0i64..5).prop_map(Op::Wait),
    ]
}

/// `concurrency`: items synced at once; the outcome must not depend on it.
async fn play(ops: Vec<Op>, concurrency: usize) {
    let mut w = World::new(&format!("concurrency = {concurrency}")).await;
    let mut n = 0;
    let mut fresh = |what: &str| {
        n += 1;
        format!("{what} {n}")
    };
    for op in ops {
        let (incidents, issues) = (w.incident_ids(), w.issue_iids());
        let pick_i = |k: usize| world::pick(&incidents, k);
        let pick_g = |k: usize| world::pick(&issues, k);
        match op {
            Op::NewIncident => {
                w.spira.add_incident(1, &fresh("Incident"), 1);
            }
            Op::NewIssue => {
                w.gitlab
                    .create_issue_as("alice", &fresh("Issue"), "from GitLab");
            }
            Op::SpiraTitle(k) => {
                if let Some(id) = pick_i(k) {
                    let t = fresh("Spira title");
                    w.spira.edit_incident(id, |i| i.name = t);
                }
            }
            Op::GitLabTitle(k) => {
                if let Some(iid) = pick_g(k) {
                    w.gitlab
                        .edit_issue_as("bob", iid, Some(&fresh("GitLab title")), None);
                }
            }
            Op::SpiraStatus(k, s) => {
                if let Some(id) = pick_i(k) {
                    w.spira.edit_incident(id, |i| i.incident_status_id = s);
                }
            }
            Op::GitLabState(k, open) => {
                if let Some(iid) = pick_g(k) {
                    w.gitlab.edit_issue_as("bob", iid, None, Some(open));
                }
            }
            Op::SpiraPriority(k, p) => {
                if let Some(id) = pick_i(k) {
                    w.spira.edit_incident(id, |i| i.priority_id = p);
                }
            }
            Op::GitLabPriority(k, p) => {
                if let Some(iid) = pick_g(k) {
                    let label = world::label_of(p);
                    w.gitlab
                        .set_labels_as("bob", iid, &label.into_iter().collect::<Vec<_>>());
                }
            }
            Op::SpiraComment(k) => {
                if let Some(id) = pick_i(k) {
                    let alice = w.spira_user("alice");
                    w.spira
                        .add_comment(id, alice, &format!("<p>{}</p>", fresh("spira comment")));
                }
            }
            Op::GitLabNote(k) => {
                if let Some(iid) = pick_g(k) {
                    w.gitlab.add_note_as("carol", iid, &fresh("gitlab note"));
                }
            }
            Op::Cycle => {
                w.cycle().await;
            }
            Op::Wait(minutes) => w.advance(chrono::Duration::minutes(minutes)),
        }
    }
    // The edits stop; time passes; two cycles settle everything.
    w.advance(chrono::Duration::minutes(3));
    w.cycle().await;
    w.advance(chrono::Duration::minutes(3));
    let last = w.cycle().await;
    w.assert_converged();
    assert_eq!(last.totals().failed, 0, "{last:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_edits_on_both_sides_converge(ops in prop::collection::vec(op(), 1..25), concurrency in prop_oneof![Just(1usize), Just(4), Just(8)]) {
        let runtime = labsync_testkit::runtime();
        runtime.block_on(play(ops, concurrency));
    }
}
