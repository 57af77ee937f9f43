//! Two installs with their own databases over shared simulators, in random
//! interleavings: human edits and new items on both sides, cycles of either
//! install, both at once (two processes racing), and stale reads (an install
//! that read an issue before the other's footer reached it). Items never
//! multiply, and once the edits stop both sides hold one counterpart per
//! item (issue 13, item 1).

use labsync_testkit::world;

use labsync::gitlab::{IssueEdit, ProjectRef};
use proptest::prelude::*;
use world::World;

const SHARE: &str = "share_projects = true";

#[derive(Clone, Debug)]
enum Op {
    NewIncident,
    NewIssue,
    SpiraTitle(usize),
    GitLabTitle(usize),
    CycleA,
    CycleB,
    /// Both installs' cycles at once.
    Race,
    /// An issue loses its footer, as an install that read it before the
    /// other's footer reached it saw it.
    StaleIssue(usize),
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::NewIncident),
        2 => Just(Op::NewIssue),
        1 => any::<usize>().prop_map(Op::SpiraTitle),
        1 => any::<usize>().prop_map(Op::GitLabTitle),
        2 => Just(Op::CycleA),
        2 => Just(Op::CycleB),
        2 => Just(Op::Race),
        1 => any::<usize>().prop_map(Op::StaleIssue),
        1 => (0i64..5).prop_map(Op::Wait),
    ]
}

async fn play(ops: Vec<Op>) {
    let mut w = World::new(SHARE).await;
    let mut b = w.second_install(SHARE);
    let project = ProjectRef::parse(w.gitlab.project_path());
    let dev = w.gitlab_as("bob");
    let (mut made, mut n) = (0usize, 0usize);
    for op in ops {
        let (incidents, issues) = (w.incident_ids(), w.issue_iids());
        let pick_i = |k: usize| world::pick(&incidents, k);
        let pick_g = |k: usize| world::pick(&issues, k);
        n += 1;
        match op {
            Op::NewIncident => {
                made += 1;
                w.spira.add_incident(1, &format!("Incident {n}"), 1);
            }
            Op::NewIssue => {
                made += 1;
                w.gitlab
                    .create_issue_as("alice", &format!("Issue {n}"), "from GitLab");
            }
            Op::SpiraTitle(k) => {
                if let Some(id) = pick_i(k) {
                    w.spira
                        .edit_incident(id, |i| i.name = format!("Spira title {n}"));
                }
            }
            Op::GitLabTitle(k) => {
                if let Some(iid) = pick_g(k) {
                    w.gitlab
                        .edit_issue_as("bob", iid, Some(&format!("GitLab title {n}")), None);
                }
            }
            Op::CycleA => {
                w.cycle_that_may_fail().await;
            }
            Op::CycleB => {
                w.cycle_of(&mut b).await;
            }
            Op::Race => {
                let (wa, wb) = (&mut w, &mut b);
                let (store, config) = (&mut wa.store, &wa.config);
                let opts = world::options(labsync::connectors::CycleMode::Sync);
                let a = labsync::connectors::run_plugin(&config.plugins[0], store, &opts);
                let other =
                    labsync::connectors::run_plugin(&wb.config.plugins[0], &mut wb.store, &opts);
                tokio::join!(a, other);
            }
            Op::StaleIssue(k) => {
                if let Some(iid) = pick_g(k) {
                    let edit = IssueEdit {
                        description: Some(format!("rewritten {n}")),
                        ..IssueEdit::default()
                    };
                    dev.edit_issue(&project, iid, &edit).await.unwrap();
                }
            }
            Op::Wait(minutes) => w.advance(chrono::Duration::minutes(minutes)),
        }
        // Never more items than people made, on either side.
        let (issues, incidents) = (w.gitlab.issues().len(), w.spira.incidents(1).len());
        assert!(issues <= made, "{issues} issues for {made} items made");
        assert!(
            incidents <= made,
            "{incidents} incidents for {made} items made"
        );
    }
    // The edits stop; both installs run on; one counterpart per item.
    for _ in 0..3 {
        w.advance(chrono::Duration::minutes(3));
        w.cycle().await;
        w.advance(chrono::Duration::minutes(3));
        w.cycle_of(&mut b).await;
    }
    assert_eq!(w.gitlab.issues().len(), made);
    assert_eq!(w.spira.incidents(1).len(), made);
    w.assert_converged();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, max_shrink_iters: 100, ..ProptestConfig::default() })]

    #[test]
    fn two_installs_in_any_interleaving_keep_one_counterpart_per_item(ops in prop::collection::vec(op(), 1..20)) {
        let runtime = labsync_testkit::runtime();
        runtime.block_on(play(ops));
    }
}
