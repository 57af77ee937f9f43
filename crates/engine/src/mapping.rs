//! Resolving statuses, priorities, users and releases between the two sides.
//!
//! The mapping tables name Spira values by id or by name; [`ProjectMaps`]
//! turns them into ids once per cycle, against the lookups read from Spira,
//! and answers the engine's questions in both directions. The primary rule
//! lives here: GitLab → Spira keeps the current value when it already maps
//! to what GitLab says, and only otherwise picks the primary.

use std::collections::{HashMap, HashSet};

use crate::storage::{MappingRow, Source};

/// The issue tracker's states as the engine names them (GitLab's own
/// words): every one needs a primary status mapping.
pub const TRACKER_STATES: [&str; 2] = ["opened", "closed"];

/// A test-management lookup entry (status, priority, user or release).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub id: i64,
    /// Every name the entry may be referred to by (status name; user login;
    /// release version number and name).
    pub names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("status mapping: GitLab state '{0}' has no primary Spira status")]
    NoPrimary(String),
}

/// A mapping row naming a Spira value that Spira does not have (a user
/// who left, a deleted release). It is skipped: only the field it maps is
/// affected, as if the row were not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleRow {
    pub table: &'static str,
    pub row: MappingRow,
}

impl std::fmt::Display for StaleRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{table} mapping '{}' → '{}' (source {}): no Spira {table} has this name or id; the row is skipped",
            self.row.tm_value,
            self.row.tracker_value,
            self.row.source.as_str(),
            table = self.table,
        )
    }
}

/// The resolved mapping tables of one project mapping.
#[derive(Debug, Default, Clone)]
pub struct ProjectMaps {
    /// Test-management status id → tracker state.
    status_state: HashMap<i64, String>,
    /// Tracker state → primary test-management status id.
    state_primary: HashMap<String, i64>,
    /// Test-management priority id → label.
    priority_label: HashMap<i64, String>,
    /// Label (lowercase) → primary test-management priority id.
    label_primary: HashMap<String, i64>,
    user_to_tracker: HashMap<i64, String>,
    user_from_tracker: HashMap<String, i64>,
    release_to_tracker: HashMap<i64, String>,
    release_from_tracker: HashMap<String, i64>,
    stale: Vec<StaleRow>,
}

/// The test-management lookups a project's mapping rows are resolved against.
#[derive(Debug, Default, Clone)]
pub struct TmLookups {
    pub statuses: Vec<Named>,
    pub priorities: Vec<Named>,
    pub users: Vec<Named>,
    pub releases: Vec<Named>,
}

fn resolve(key: &str, entries: &[Named]) -> Option<i64> {
    if let Ok(id) = key.parse::<i64>()
        && entries.iter().any(|e| e.id == id)
    {
        return Some(id);
    }
    entries
        .iter()
        .find(|e| {
            e.names
                .iter()
                .any(|n| n.trim().eq_ignore_ascii_case(key.trim()))
        })
        .map(|e| e.id)
}

impl ProjectMaps {
    /// Resolves the rows of one project. A row whose Spira key is unknown is
    /// skipped and kept in [`ProjectMaps::stale`] (reported, never silently
    /// dropped); only a state without a primary status is an error.
    pub fn build(
        statuses: &[MappingRow],
        priorities: &[MappingRow],
        users: &[MappingRow],
        releases: &[MappingRow],
        lookups: &TmLookups,
    ) -> Result<ProjectMaps, Vec<MappingError>> {
        let mut maps = ProjectMaps::default();
        let mut errors = Vec::new();
        let mut stale = Vec::new();
        let mut resolved = |table: &'static str, rows: &[MappingRow], entries: &[Named]| {
            let mut found = Vec::new();
            for row in rows {
                match resolve(&row.tm_value, entries) {
                    Some(id) => found.push((id, row.clone())),
                    None => stale.push(StaleRow {
                        table,
                        row: row.clone(),
                    }),
                }
            }
            found
        };
        for (id, row) in resolved("status", statuses, &lookups.statuses) {
            maps.status_state.insert(id, row.tracker_value.clone());
            if row.primary {
                maps.state_primary.insert(row.tracker_value, id);
            }
        }
        for (id, row) in resolved("priority", priorities, &lookups.priorities) {
            maps.priority_label.insert(id, row.tracker_value.clone());
            if row.primary {
                maps.label_primary
                    .insert(row.tracker_value.to_lowercase(), id);
            }
        }
        for (id, row) in resolved("user", users, &lookups.users) {
            maps.user_from_tracker
                .insert(row.tracker_value.to_lowercase(), id);
            maps.user_to_tracker.insert(id, row.tracker_value);
        }
        for (id, row) in resolved("release", releases, &lookups.releases) {
            maps.release_from_tracker
                .insert(row.tracker_value.to_lowercase(), id);
            maps.release_to_tracker.insert(id, row.tracker_value);
        }
        maps.stale = stale;
        if !statuses.is_empty() {
            for state in TRACKER_STATES {
                if !maps.state_primary.contains_key(state) {
                    errors.push(MappingError::NoPrimary(state.to_string()));
                }
            }
        }
        if errors.is_empty() {
            Ok(maps)
        } else {
            Err(errors)
        }
    }

    /// The rows skipped because the test-management side has no such value (any more).
    pub fn stale(&self) -> &[StaleRow] {
        &self.stale
    }

    /// The `auto` release row, skipped as stale, that maps `milestone`: the
    /// engine replaces it when it pairs the milestone with a release again.
    pub fn stale_auto_release(&self, milestone: &str) -> Option<&MappingRow> {
        self.stale
            .iter()
            .filter(|s| s.table == "release" && s.row.source == Source::Auto)
            .map(|s| &s.row)
            .find(|r| {
                r.tracker_value
                    .trim()
                    .eq_ignore_ascii_case(milestone.trim())
            })
    }

    /// The tracker state of a test-management status; `None` when the status is unmapped.
    pub fn state_of(&self, status: i64) -> Option<&str> {
        self.status_state.get(&status).map(String::as_str)
    }

    /// The test-management status for a tracker state: the current one if it already
    /// maps to that state, else the state's primary.
    pub fn status_for(&self, state: &str, current: Option<i64>) -> Option<i64> {
        match current {
            Some(c) if self.state_of(c) == Some(state) => Some(c),
            _ => self.state_primary.get(state).copied(),
        }
    }

    pub fn label_of(&self, priority: i64) -> Option<&str> {
        self.priority_label.get(&priority).map(String::as_str)
    }

    /// Every label the priority mapping manages, so the engine can remove
    /// a stale one itself (scoped labels are exclusive only on paid tiers).
    pub fn priority_labels(&self) -> HashSet<&str> {
        self.priority_label.values().map(String::as_str).collect()
    }

    /// The test-management priority for an issue's labels: the current one if one of
    /// the labels already means it, else the primary of the first managed
    /// label found; `None` when the issue has no managed label.
    pub fn priority_for(&self, labels: &[String], current: Option<i64>) -> Option<i64> {
        let managed: Vec<String> = labels
            .iter()
            .map(|l| l.to_lowercase())
            .filter(|l| self.label_primary.contains_key(l))
            .collect();
        if let Some(c) = current
            && let Some(label) = self.label_of(c)
            && managed.contains(&label.to_lowercase())
        {
            return Some(c);
        }
        let mut sorted = managed;
        sorted.sort();
        sorted
            .first()
            .and_then(|l| self.label_primary.get(l).copied())
    }

    pub fn tracker_user_of(&self, tm_user: i64) -> Option<&str> {
        self.user_to_tracker.get(&tm_user).map(String::as_str)
    }

    pub fn tm_user_of(&self, tracker_username: &str) -> Option<i64> {
        self.user_from_tracker
            .get(&tracker_username.to_lowercase())
            .copied()
    }

    pub fn milestone_of(&self, release: i64) -> Option<&str> {
        self.release_to_tracker.get(&release).map(String::as_str)
    }

    pub fn release_of(&self, milestone: &str) -> Option<i64> {
        self.release_from_tracker
            .get(&milestone.to_lowercase())
            .copied()
    }
}

/// A user as auto-mapping sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    pub login: String,
    pub email: Option<String>,
    pub full_name: String,
}

/// Pairs test-management users with tracker users that have no explicit mapping: same
/// email, then same login/username, then same full name. A key shared by two
/// users on either side is ambiguous and ignored, as Spira itself does for names.
pub fn auto_map(tm: &[Person], tracker: &[Person]) -> Vec<(i64, String)> {
    type KeyFn = fn(&Person) -> Option<String>;
    let keys: [KeyFn; 3] = [
        |p| {
            p.email
                .as_ref()
                .map(|e| e.trim().to_lowercase())
                .filter(|e| !e.is_empty())
        },
        |p| Some(p.login.trim().to_lowercase()).filter(|l| !l.is_empty()),
        |p| {
            Some(
                p.full_name
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_lowercase(),
            )
            .filter(|n| !n.is_empty())
        },
    ];
    let mut pairs = Vec::new();
    let mut done_tm = HashSet::new();
    let mut done_tracker = HashSet::new();
    for key in keys {
        let unique = |people: &[Person]| {
            let mut count: HashMap<String, Vec<&Person>> = HashMap::new();
            for p in people {
                if let Some(k) = key(p) {
                    count.entry(k).or_default().push(p);
                }
            }
            count
                .into_iter()
                .filter(|(_, v)| v.len() == 1)
                .map(|(k, v)| (k, v[0].clone()))
                .collect::<HashMap<_, _>>()
        };
        let (s, g) = (unique(tm), unique(tracker));
        let mut candidates: Vec<(i64, String, i64)> = s
            .iter()
            .filter_map(|(k, sp)| g.get(k).map(|gp| (sp.id, gp.login.clone(), gp.id)))
            .collect();
        candidates.sort();
        let mut found = Vec::new();
        for (sid, login, gid) in candidates {
            // A user paired by an earlier, stronger key keeps that pairing.
            if done_tm.contains(&sid) || done_tracker.contains(&gid) {
                continue;
            }
            done_tm.insert(sid);
            done_tracker.insert(gid);
            found.push((sid, login));
        }
        pairs.extend(found);
    }
    pairs.sort();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Source;

    fn row(tm: &str, tracker: &str, primary: bool) -> MappingRow {
        MappingRow {
            plugin: "p".into(),
            tm_project: 1,
            tm_value: tm.into(),
            tracker_value: tracker.into(),
            primary,
            source: Source::Config,
        }
    }

    fn named(id: i64, name: &str) -> Named {
        Named {
            id,
            names: vec![name.into()],
        }
    }

    fn lookups() -> TmLookups {
        TmLookups {
            statuses: vec![
                named(1, "New"),
                named(2, "Open"),
                named(4, "Resolved"),
                named(5, "Closed"),
            ],
            priorities: vec![
                named(1, "1 - Critical"),
                named(2, "2 - High"),
                named(3, "3 - Medium"),
            ],
            users: vec![named(7, "bob")],
            releases: vec![Named {
                id: 9,
                names: vec!["1.0".into(), "Release One".into()],
            }],
        }
    }

    fn maps() -> ProjectMaps {
        let statuses = [
            row("New", "opened", true),
            row("2", "opened", false),
            row("Resolved", "closed", false),
            row("closed", "closed", true),
        ];
        let priorities = [
            row("1 - Critical", "priority::high", false),
            row("2 - High", "priority::high", true),
            row("3", "priority::low", true),
        ];
        ProjectMaps::build(
            &statuses,
            &priorities,
            &[row("bob", "bob.dev", false)],
            &[row("Release One", "Sprint 9", false)],
            &lookups(),
        )
        .unwrap()
    }

    #[test]
    fn a_state_change_already_satisfied_keeps_the_status() {
        let m = maps();
        // Closing an issue whose incident is Resolved keeps Resolved.
        assert_eq!(m.status_for("closed", Some(4)), Some(4));
        // Closing an open one sets the primary closed status.
        assert_eq!(m.status_for("closed", Some(2)), Some(5));
        assert_eq!(m.status_for("opened", Some(5)), Some(1));
        assert_eq!(m.state_of(2), Some("opened"));
        assert_eq!(m.state_of(3), None);
    }

    #[test]
    fn priority_labels_use_the_primary_only_when_needed() {
        let m = maps();
        let labels = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            m.priority_for(&labels(&["bug", "priority::high"]), Some(1)),
            Some(1)
        );
        assert_eq!(
            m.priority_for(&labels(&["Priority::High"]), Some(3)),
            Some(2)
        );
        assert_eq!(m.priority_for(&labels(&["bug"]), Some(3)), None);
        assert_eq!(m.label_of(1), Some("priority::high"));
        assert!(m.priority_labels().contains("priority::low"));
    }

    #[test]
    fn users_and_releases_resolve_by_name_both_ways() {
        let m = maps();
        assert_eq!(m.tracker_user_of(7), Some("bob.dev"));
        assert_eq!(m.tm_user_of("Bob.Dev"), Some(7));
        assert_eq!(m.milestone_of(9), Some("Sprint 9"));
        assert_eq!(m.release_of("sprint 9"), Some(9));
    }

    #[test]
    fn unknown_tm_names_are_skipped_and_reported_not_dropped() {
        let maps = ProjectMaps::build(
            &[
                row("New", "opened", true),
                row("Closed", "closed", true),
                row("Triage", "opened", false),
            ],
            &[],
            &[row("nobody", "x", false), row("bob", "bob.dev", false)],
            &[],
            &lookups(),
        )
        .unwrap();
        let stale: Vec<(&str, &str)> = maps
            .stale()
            .iter()
            .map(|s| (s.table, s.row.tm_value.as_str()))
            .collect();
        assert_eq!(stale, [("status", "Triage"), ("user", "nobody")]);
        assert_eq!(
            maps.stale()[1].to_string(),
            "user mapping 'nobody' → 'x' (source config): no Spira user has this name or id; the row is skipped"
        );
        // The other rows work as ever.
        assert_eq!(maps.tracker_user_of(7), Some("bob.dev"));
        assert_eq!(maps.tm_user_of("x"), None);
    }

    #[test]
    fn a_stale_primary_leaves_its_state_without_a_primary() {
        let errors = ProjectMaps::build(
            &[row("Gone", "opened", true), row("Closed", "closed", true)],
            &[],
            &[],
            &[],
            &lookups(),
        )
        .unwrap_err();
        assert_eq!(errors, vec![MappingError::NoPrimary("opened".into())]);
    }

    fn person(id: i64, login: &str, email: Option<&str>, name: &str) -> Person {
        Person {
            id,
            login: login.into(),
            email: email.map(String::from),
            full_name: name.into(),
        }
    }

    #[test]
    fn auto_map_by_email_then_login_then_unique_name() {
        let tm = [
            person(1, "alice", Some("Alice@Example.com"), "Alice Tester"),
            person(2, "bob", None, "Bob Developer"),
            person(3, "cl", None, "Carol  Lead"),
            person(4, "d1", None, "Dana Same"),
            person(5, "d2", None, "Dana Same"),
        ];
        let tracker = [
            person(10, "a.tester", Some("alice@example.com"), "A. T."),
            person(11, "bob", None, "Robert"),
            person(12, "carol", None, "Carol Lead"),
            person(13, "dana", None, "Dana Same"),
        ];
        assert_eq!(
            auto_map(&tm, &tracker),
            vec![
                (1, "a.tester".to_string()),
                (2, "bob".to_string()),
                (3, "carol".to_string())
            ],
            "a full name shared by two Spira users is ignored"
        );
    }
}
