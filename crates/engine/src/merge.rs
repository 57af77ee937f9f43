//! Three-way merge per field, against the base of the pair.
//!
//! - changed on one side only: copied to the other;
//! - changed on both to the same value: nothing to write;
//! - changed on both to different values: the plugin's conflict policy picks
//!   the winner, and the conflict is reported for the audit log;
//! - equal to the base on both sides: nothing. This is what turns our own
//!   writes, read back on the next poll, into no-ops.
//!
//! The direction setting limits which side may be written.

use chrono::{DateTime, Utc};

use crate::settings::{ConflictPolicy, Direction};
use labsync_model::{Field, Side, Ticket, Value};

/// One side's view of the pair, resolved into test-management terms.
#[derive(Clone, Debug)]
pub struct SideView<'a> {
    pub ticket: &'a Ticket,
    /// When that side last changed the item (its own clock).
    pub changed_at: DateTime<Utc>,
}

/// Both sides changed a field to different values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub field: Field,
    pub base: Option<Value>,
    pub test_management: Value,
    pub issue_tracker: Value,
    pub winner: Side,
}

/// What the merge decided for one pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merge {
    /// The record both sides will hold once the writes are done: the new base.
    pub merged: Ticket,
    /// Fields to write to the issue tracker / to the test-management side.
    pub to_tracker: Vec<Field>,
    pub to_test_management: Vec<Field>,
    pub conflicts: Vec<Conflict>,
}

impl Merge {
    pub fn is_noop(&self) -> bool {
        self.to_tracker.is_empty() && self.to_test_management.is_empty()
    }
}

/// Merges the two sides of a pair. `base` is `None` for a pair linked
/// without a recorded base (first sync of an existing pair): every
/// difference is then settled by the policy, without being called a conflict.
pub fn merge(
    base: Option<&Ticket>,
    tm: SideView<'_>,
    gl: SideView<'_>,
    policy: ConflictPolicy,
    direction: Direction,
) -> Merge {
    let mut merged = base.cloned().unwrap_or_else(|| tm.ticket.clone());
    let mut to_tracker = Vec::new();
    let mut to_test_management = Vec::new();
    let mut conflicts = Vec::new();
    for field in Field::ALL {
        let (t, g) = (tm.ticket.get(field), gl.ticket.get(field));
        let b = base.map(|b| b.get(field));
        let tm_changed = b.as_ref() != Some(&t);
        let gl_changed = b.as_ref() != Some(&g);
        let winner = if t == g {
            // Same value on both sides (or neither changed): nothing to write.
            merged.set(field, t);
            continue;
        } else if tm_changed && !gl_changed {
            Side::TestManagement
        } else if gl_changed && !tm_changed {
            Side::IssueTracker
        } else {
            let w = decide(policy, direction, &tm, &gl);
            if base.is_some() {
                conflicts.push(Conflict {
                    field,
                    base: b.clone(),
                    test_management: t.clone(),
                    issue_tracker: g.clone(),
                    winner: w,
                });
            }
            w
        };
        match (winner, direction) {
            (Side::TestManagement, Direction::Both | Direction::ToIssueTracker) => {
                merged.set(field, t);
                to_tracker.push(field);
            }
            (Side::IssueTracker, Direction::Both | Direction::ToTestManagement) => {
                merged.set(field, g);
                to_test_management.push(field);
            }
            // The change may not cross in this direction: the base keeps
            // its value, so the change is neither copied nor lost.
            _ => {
                if let Some(b) = b {
                    merged.set(field, b);
                }
            }
        }
    }
    Merge {
        merged,
        to_tracker,
        to_test_management,
        conflicts,
    }
}

fn decide(
    policy: ConflictPolicy,
    direction: Direction,
    tm: &SideView<'_>,
    gl: &SideView<'_>,
) -> Side {
    // A one-way sync has only one side that may be written.
    match direction {
        Direction::ToIssueTracker => return Side::TestManagement,
        Direction::ToTestManagement => return Side::IssueTracker,
        Direction::Both => {}
    }
    match policy {
        ConflictPolicy::TestManagement => Side::TestManagement,
        ConflictPolicy::IssueTracker => Side::IssueTracker,
        // Ties go to the test-management side, where the defect was filed.
        ConflictPolicy::Newest if gl.changed_at > tm.changed_at => Side::IssueTracker,
        ConflictPolicy::Newest => Side::TestManagement,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 10, minute, 0)
            .single()
            .unwrap_or_default()
    }

    fn base() -> Ticket {
        Ticket {
            title: "Checkout fails".into(),
            description: "Pay button does nothing".into(),
            status: Some(1),
            priority: Some(2),
            assignee: None,
            release: Some(5),
        }
    }

    fn run(
        b: Option<&Ticket>,
        tm: &Ticket,
        tm_at: u32,
        gl: &Ticket,
        gl_at: u32,
        policy: ConflictPolicy,
    ) -> Merge {
        merge(
            b,
            SideView {
                ticket: tm,
                changed_at: at(tm_at),
            },
            SideView {
                ticket: gl,
                changed_at: at(gl_at),
            },
            policy,
            Direction::Both,
        )
    }

    #[test]
    fn unchanged_pair_writes_nothing() {
        let b = base();
        let m = run(Some(&b), &b, 1, &b, 2, ConflictPolicy::Newest);
        assert!(m.is_noop());
        assert_eq!(m.merged, b);
    }

    #[test]
    fn one_side_changes_are_copied_across() {
        let b = base();
        let tm = Ticket {
            title: "Checkout fails on Safari".into(),
            ..b.clone()
        };
        let gl = Ticket {
            status: Some(4),
            ..b.clone()
        };
        let m = run(Some(&b), &tm, 1, &gl, 2, ConflictPolicy::Newest);
        assert_eq!(m.to_tracker, vec![Field::Title]);
        assert_eq!(m.to_test_management, vec![Field::Status]);
        assert!(
            m.conflicts.is_empty(),
            "edits of different fields are not conflicts"
        );
        assert_eq!(m.merged.title, "Checkout fails on Safari");
        assert_eq!(m.merged.status, Some(4));
    }

    #[test]
    fn same_change_on_both_sides_writes_nothing() {
        let b = base();
        let both = Ticket {
            priority: Some(1),
            ..b.clone()
        };
        let m = run(Some(&b), &both, 1, &both, 2, ConflictPolicy::Newest);
        assert!(m.is_noop());
        assert!(m.conflicts.is_empty());
        assert_eq!(m.merged.priority, Some(1));
    }

    #[test]
    fn conflicts_follow_each_policy_and_are_reported() {
        let b = base();
        let tm = Ticket {
            title: "From Spira".into(),
            ..b.clone()
        };
        let gl = Ticket {
            title: "From GitLab".into(),
            ..b.clone()
        };
        let cases = [
            (ConflictPolicy::Newest, 5, 9, Side::IssueTracker),
            (ConflictPolicy::Newest, 9, 5, Side::TestManagement),
            (ConflictPolicy::Newest, 5, 5, Side::TestManagement),
            (ConflictPolicy::TestManagement, 1, 9, Side::TestManagement),
            (ConflictPolicy::IssueTracker, 9, 1, Side::IssueTracker),
        ];
        for (policy, tm_at, gl_at, winner) in cases {
            let m = run(Some(&b), &tm, tm_at, &gl, gl_at, policy);
            assert_eq!(m.conflicts.len(), 1, "{policy:?}");
            assert_eq!(m.conflicts[0].winner, winner, "{policy:?} {tm_at} {gl_at}");
            assert_eq!(
                m.conflicts[0].base,
                Some(Value::Text("Checkout fails".into()))
            );
            match winner {
                Side::IssueTracker => {
                    assert_eq!(m.merged.title, "From GitLab");
                    assert_eq!(m.to_test_management, vec![Field::Title]);
                    assert!(m.to_tracker.is_empty());
                }
                Side::TestManagement => {
                    assert_eq!(m.merged.title, "From Spira");
                    assert_eq!(m.to_tracker, vec![Field::Title]);
                    assert!(m.to_test_management.is_empty());
                }
            }
        }
    }

    #[test]
    fn one_way_sync_never_writes_the_other_side_and_loses_nothing() {
        let b = base();
        let tm = Ticket {
            title: "Spira title".into(),
            ..b.clone()
        };
        let gl = Ticket {
            status: Some(5),
            title: "GitLab title".into(),
            ..b.clone()
        };
        let m = merge(
            Some(&b),
            SideView {
                ticket: &tm,
                changed_at: at(1),
            },
            SideView {
                ticket: &gl,
                changed_at: at(9),
            },
            ConflictPolicy::Newest,
            Direction::ToIssueTracker,
        );
        assert!(m.to_test_management.is_empty());
        assert_eq!(m.to_tracker, vec![Field::Title]);
        assert_eq!(m.merged.title, "Spira title");
        // GitLab's status change does not cross; the base keeps the old value
        // so it is not mistaken for a Spira change later.
        assert_eq!(m.merged.status, b.status);
    }

    #[test]
    fn without_a_base_differences_follow_the_policy_silently() {
        let tm = base();
        let gl = Ticket {
            assignee: Some(3),
            ..base()
        };
        let m = run(None, &tm, 1, &gl, 2, ConflictPolicy::TestManagement);
        assert!(m.conflicts.is_empty());
        assert_eq!(m.to_tracker, vec![Field::Assignee]);
        assert_eq!(m.merged, tm);
    }

    #[test]
    fn our_own_writes_read_back_are_no_ops() {
        // Cycle 1 copies a Spira title change to GitLab and stores the merge as base.
        let b = base();
        let tm = Ticket {
            title: "New".into(),
            ..b.clone()
        };
        let first = run(Some(&b), &tm, 3, &b, 1, ConflictPolicy::Newest);
        assert_eq!(first.to_tracker, vec![Field::Title]);
        // Cycle 2 reads both sides, now equal to the stored base, even though
        // GitLab's timestamp moved because of our write.
        let second = run(
            Some(&first.merged),
            &tm,
            3,
            &first.merged,
            4,
            ConflictPolicy::Newest,
        );
        assert!(second.is_noop());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn ticket() -> impl Strategy<Value = Ticket> {
        let small = prop::option::of(0i64..3);
        (
            prop::sample::select(vec!["a", "b", "c"]),
            prop::sample::select(vec!["x", "y"]),
            small.clone(),
            small.clone(),
            small.clone(),
            small,
        )
            .prop_map(|(t, d, s, p, a, r)| Ticket {
                title: t.into(),
                description: d.into(),
                status: s,
                priority: p,
                assignee: a,
                release: r,
            })
    }

    proptest! {
        /// After the planned writes, both sides hold the merged record, and a
        /// field already equal on both sides is never written.
        #[test]
        fn writes_make_both_sides_equal(base in ticket(), tm in ticket(), gl in ticket(), tm_at in 0i64..3, gl_at in 0i64..3, policy in 0u8..3) {
            let policy = [ConflictPolicy::Newest, ConflictPolicy::TestManagement, ConflictPolicy::IssueTracker][policy as usize];
            let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default();
            let m = merge(
                Some(&base),
                SideView { ticket: &tm, changed_at: t0 + chrono::Duration::minutes(tm_at) },
                SideView { ticket: &gl, changed_at: t0 + chrono::Duration::minutes(gl_at) },
                policy,
                Direction::Both,
            );
            let (mut tm_after, mut gl_after) = (tm.clone(), gl.clone());
            for f in &m.to_tracker { gl_after.set(*f, m.merged.get(*f)); }
            for f in &m.to_test_management { tm_after.set(*f, m.merged.get(*f)); }
            prop_assert_eq!(&tm_after, &m.merged);
            prop_assert_eq!(&gl_after, &m.merged);
            for f in Field::ALL {
                if tm.get(f) == gl.get(f) {
                    prop_assert!(!m.to_tracker.contains(&f) && !m.to_test_management.contains(&f));
                }
                // A one-sided change is never lost.
                if tm.get(f) == base.get(f) && gl.get(f) != base.get(f) {
                    prop_assert_eq!(m.merged.get(f), gl.get(f));
                }
                if gl.get(f) == base.get(f) && tm.get(f) != base.get(f) {
                    prop_assert_eq!(m.merged.get(f), tm.get(f));
                }
            }
            // Merging again against the new base, with both sides written, is a no-op.
            let again = merge(
                Some(&m.merged),
                SideView { ticket: &tm_after, changed_at: t0 },
                SideView { ticket: &gl_after, changed_at: t0 },
                policy,
                Direction::Both,
            );
            prop_assert!(again.is_noop());
        }
    }
}
