//! The writes one pair needs, decided from what was read of it alone: both
//! sides as neutral records, the base, whether each side carries its link
//! back, and the plugin's policy and direction. No I/O: the same inputs
//! always give the same plan.

use crate::settings::{ConflictPolicy, Direction};
use labsync_model::Ticket;

use super::PlannedWrite;
use crate::merge::{Merge, SideView, merge};

/// What was read of one pair, resolved into test-management terms.
#[derive(Clone, Debug)]
pub struct PairRead<'a> {
    pub incident: i64,
    pub issue: u64,
    /// The record as it stood after the last sync; `None` for a pair just
    /// found by marker (every difference goes by the policy).
    pub base: Option<&'a Ticket>,
    pub test_management: SideView<'a>,
    pub issue_tracker: SideView<'a>,
    /// The title of the issue's milestone when no release is mapped to it.
    pub missing_release: Option<&'a str>,
    /// The issue carries the footer that names this incident.
    pub has_footer: bool,
    /// The incident's link-back property names this issue.
    pub has_property: bool,
    pub policy: ConflictPolicy,
    pub direction: Direction,
}

/// The writes of one pair. When a release must be created first, the
/// fields are planned again once it exists (the release is what the
/// issue's milestone then resolves to): [`PairPlan::create_release`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairPlan {
    pub incident: i64,
    pub issue: u64,
    /// A release the test-management side lacks for the issue's milestone.
    pub create_release: Option<String>,
    /// The fields each way, the conflicts, and the new base.
    pub merge: Merge,
    /// The issue lacks its footer: written even when no field changed.
    pub write_footer: bool,
    /// The incident's property does not name the issue: written too.
    pub write_property: bool,
}

/// Plans one pair.
pub fn pair(read: &PairRead<'_>) -> PairPlan {
    // A milestone crosses only where the issue tracker may write the other side.
    let create_release = read
        .missing_release
        .filter(|_| read.direction != Direction::ToIssueTracker)
        .map(String::from);
    let merge = merge(
        read.base,
        read.test_management.clone(),
        read.issue_tracker.clone(),
        read.policy,
        read.direction,
    );
    PairPlan {
        incident: read.incident,
        issue: read.issue,
        create_release,
        merge,
        write_footer: !read.has_footer && read.direction != Direction::ToTestManagement,
        write_property: !read.has_property,
    }
}

impl PairPlan {
    /// The writes as `labsync plan` shows them: the release first, then
    /// the fields to the issue, to the incident, and the conflicts settled.
    pub fn writes(&self) -> Vec<PlannedWrite> {
        let (incident, issue) = (self.incident, self.issue);
        let release = self
            .create_release
            .iter()
            .map(|milestone| PlannedWrite::CreateRelease {
                milestone: milestone.clone(),
            });
        let to_issue = self
            .merge
            .to_tracker
            .iter()
            .map(|&field| PlannedWrite::SetIssueField {
                issue,
                incident,
                field,
            });
        let to_incident =
            self.merge
                .to_test_management
                .iter()
                .map(|&field| PlannedWrite::SetIncidentField {
                    incident,
                    issue,
                    field,
                });
        let conflicts = self.merge.conflicts.iter().map(|c| PlannedWrite::Conflict {
            incident,
            issue,
            field: c.field,
            winner: c.winner,
        });
        release
            .chain(to_issue)
            .chain(to_incident)
            .chain(conflicts)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use labsync_model::{Field, Side};

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 10, minute, 0)
            .single()
            .unwrap_or_default()
    }

    fn ticket(title: &str) -> Ticket {
        Ticket {
            title: title.into(),
            description: "steps".into(),
            status: Some(1),
            priority: Some(2),
            assignee: None,
            release: None,
        }
    }

    /// A linked pair, both sides with their link back, two-way, newest wins.
    fn read<'a>(base: &'a Ticket, tm: &'a Ticket, gl: &'a Ticket) -> PairRead<'a> {
        PairRead {
            incident: 7,
            issue: 3,
            base: Some(base),
            test_management: SideView {
                ticket: tm,
                changed_at: at(1),
            },
            issue_tracker: SideView {
                ticket: gl,
                changed_at: at(2),
            },
            missing_release: None,
            has_footer: true,
            has_property: true,
            policy: ConflictPolicy::Newest,
            direction: Direction::Both,
        }
    }

    #[test]
    fn a_pair_equal_to_its_base_plans_nothing() {
        let base = ticket("Crash");
        let plan = pair(&read(&base, &base, &base));
        assert_eq!(plan.writes(), vec![]);
        assert!(!plan.write_footer && !plan.write_property);
    }

    #[test]
    fn a_title_changed_on_one_side_is_set_on_the_other() {
        let base = ticket("Crash");
        let renamed = ticket("Crash on save");
        let plan = pair(&read(&base, &renamed, &base));
        assert_eq!(
            plan.writes(),
            vec![PlannedWrite::SetIssueField {
                issue: 3,
                incident: 7,
                field: Field::Title
            }]
        );
        assert_eq!(plan.merge.merged.title, "Crash on save");
        let plan = pair(&read(&base, &base, &renamed));
        assert_eq!(
            plan.writes(),
            vec![PlannedWrite::SetIncidentField {
                incident: 7,
                issue: 3,
                field: Field::Title
            }]
        );
    }

    #[test]
    fn a_title_changed_on_both_sides_is_a_conflict_the_policy_settles() {
        let base = ticket("Crash");
        let (tm, gl) = (ticket("Crash in Spira"), ticket("Crash in GitLab"));
        // Newest: GitLab changed last (minute 2), so its title is copied to Spira.
        let plan = pair(&read(&base, &tm, &gl));
        assert_eq!(
            plan.writes(),
            vec![
                PlannedWrite::SetIncidentField {
                    incident: 7,
                    issue: 3,
                    field: Field::Title
                },
                PlannedWrite::Conflict {
                    incident: 7,
                    issue: 3,
                    field: Field::Title,
                    winner: Side::IssueTracker
                },
            ]
        );
        let mut tm_wins = read(&base, &tm, &gl);
        tm_wins.policy = ConflictPolicy::TestManagement;
        let plan = pair(&tm_wins);
        assert_eq!(plan.merge.merged.title, "Crash in Spira");
        assert!(plan.writes().contains(&PlannedWrite::Conflict {
            incident: 7,
            issue: 3,
            field: Field::Title,
            winner: Side::TestManagement
        }));
    }

    #[test]
    fn a_one_way_plugin_plans_nothing_against_its_direction() {
        let base = ticket("Crash");
        let renamed = ticket("Renamed in GitLab");
        let mut one_way = read(&base, &base, &renamed);
        one_way.direction = Direction::ToIssueTracker;
        one_way.missing_release = Some("Sprint 9");
        one_way.has_footer = false;
        let plan = pair(&one_way);
        assert_eq!(plan.writes(), vec![], "nothing is written to Spira");
        assert_eq!(plan.merge.merged.title, "Crash", "the base keeps its value");
        assert!(plan.write_footer, "the issue still gets its link back");
        let mut other_way = read(&base, &renamed, &base);
        other_way.direction = Direction::ToTestManagement;
        other_way.has_footer = false;
        let plan = pair(&other_way);
        assert_eq!(plan.writes(), vec![], "nothing is written to GitLab");
        assert!(!plan.write_footer, "not even the footer");
    }

    #[test]
    fn an_unmapped_milestone_plans_its_release_first() {
        let base = ticket("Crash");
        let renamed = ticket("Crash on save");
        let mut read = read(&base, &base, &renamed);
        read.missing_release = Some("Sprint 9");
        let writes = pair(&read).writes();
        assert_eq!(
            writes.first(),
            Some(&PlannedWrite::CreateRelease {
                milestone: "Sprint 9".into()
            }),
            "{writes:?}"
        );
        assert_eq!(writes.len(), 2, "{writes:?}");
    }

    #[test]
    fn a_missing_link_back_is_written_without_a_field_change() {
        let base = ticket("Crash");
        let mut read = read(&base, &base, &base);
        read.has_footer = false;
        read.has_property = false;
        let plan = pair(&read);
        assert!(plan.write_footer && plan.write_property);
        assert_eq!(plan.writes(), vec![], "no field is set");
    }
}
