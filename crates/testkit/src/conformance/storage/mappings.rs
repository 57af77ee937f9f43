//! What the configuration and `labsync map` declared, and the rows the
//! engine adds itself.

use labsync::sync::storage::{Kind, MappingRow, ProjectRow, Source, Storage};

use super::{Inspect, P, Q, assert_refused};

fn row(
    plugin: &str,
    project: i64,
    tm: &str,
    tracker: &str,
    primary: bool,
    source: Source,
) -> MappingRow {
    MappingRow {
        plugin: plugin.into(),
        tm_project: project,
        tm_value: tm.into(),
        tracker_value: tracker.into(),
        primary,
        source,
    }
}

fn listed(
    s: &dyn Storage,
    kind: Kind,
    plugin: Option<&str>,
    project: Option<i64>,
) -> Vec<(String, String)> {
    let rows = s.mappings(kind, plugin, project).unwrap();
    rows.into_iter()
        .map(|r| (r.tm_value, r.tracker_value))
        .collect()
}

fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A cycle syncs the project mappings of its plugin only.
pub fn projects_are_listed_by_plugin(s: &mut impl Inspect) {
    let project = |plugin: &str, id, path: &str| ProjectRow {
        plugin: plugin.into(),
        tm_project: id,
        tracker_project: path.into(),
        active: true,
        source: Source::Config,
    };
    let all = [
        project(P, 1, "g/one"),
        project(P, 2, "g/two"),
        project(Q, 1, "g/one"),
    ];
    assert_eq!(s.projects(None).unwrap(), all);
    assert_eq!(s.projects(Some(Q)).unwrap(), all[2..]);
    assert_eq!(s.projects(Some("nobody")).unwrap(), []);
}

/// The engine resolves values with its own project's tables only; status
/// and priority rows carry the primary the other direction uses.
pub fn mappings_are_filtered_by_plugin_and_project(s: &mut impl Inspect) {
    let statuses = s.mappings(Kind::Status, None, None).unwrap();
    assert_eq!(
        statuses,
        [
            row(P, 1, "Closed", "closed", true, Source::Config),
            row(P, 1, "New", "opened", true, Source::Config),
            row(Q, 1, "Open", "opened", true, Source::Config),
        ]
    );
    assert_eq!(
        s.mappings(Kind::Status, Some(P), Some(1)).unwrap(),
        statuses[..2]
    );
    assert_eq!(s.mappings(Kind::Status, None, Some(1)).unwrap(), statuses);
    assert_eq!(
        s.mappings(Kind::Status, Some(Q), None).unwrap(),
        statuses[2..]
    );
    assert_eq!(s.mappings(Kind::Status, Some(P), Some(2)).unwrap(), []);
    assert_eq!(
        listed(s, Kind::Release, Some(P), Some(2)),
        pairs(&[("R1", "m1")])
    );
    assert_eq!(listed(s, Kind::Release, Some(P), Some(1)), []);
    assert_eq!(
        s.mappings(Kind::User, Some(P), Some(1)).unwrap(),
        [row(P, 1, "alice", "alice.gl", false, Source::Config)]
    );
    assert_eq!(s.mappings(Kind::Priority, None, None).unwrap(), []);
}

/// The engine's user auto-map and `labsync map add` add rows the next
/// resolution finds, as written (trimmed), ordered by their tracker value.
pub fn an_added_mapping_is_listed_with_its_source(s: &mut impl Inspect) {
    s.add_mapping(
        Kind::User,
        &row(P, 1, " bob ", " bob.gl ", false, Source::Auto),
    )
    .unwrap();
    s.add_mapping(
        Kind::Priority,
        &row(P, 1, "1 - Critical", "prio::high", true, Source::Cli),
    )
    .unwrap();
    s.add_mapping(
        Kind::Priority,
        &row(P, 1, "2 - High", "prio::high", false, Source::Cli),
    )
    .unwrap();
    assert_eq!(
        s.mappings(Kind::User, Some(P), Some(1)).unwrap(),
        [
            row(P, 1, "alice", "alice.gl", false, Source::Config),
            row(P, 1, "bob", "bob.gl", false, Source::Auto),
        ]
    );
    assert_eq!(
        s.mappings(Kind::Priority, Some(P), Some(1)).unwrap(),
        [
            row(P, 1, "1 - Critical", "prio::high", true, Source::Cli),
            row(P, 1, "2 - High", "prio::high", false, Source::Cli),
        ]
    );
    assert_eq!(listed(s, Kind::User, Some(Q), None), []);
}

/// A row that would make a value resolve two ways is refused, whoever
/// writes it, and the tables stay as they were: the engine's auto rows
/// never override what a person declared.
pub fn a_clashing_mapping_is_refused_and_changes_nothing(s: &mut impl Inspect) {
    let before: Vec<_> = Kind::ALL.map(|k| s.mappings(k, None, None).unwrap()).into();
    let clashes = [
        (
            Kind::User,
            row(P, 1, "ALICE", "other.gl", false, Source::Auto),
            "a mapped value, in other case",
        ),
        (
            Kind::User,
            row(P, 1, "zed", "Alice.GL", false, Source::Auto),
            "a taken tracker user",
        ),
        (
            Kind::Status,
            row(P, 1, "Reopened", "opened", true, Source::Cli),
            "a second primary",
        ),
        (
            Kind::Status,
            row(P, 1, "Odd", "archived", false, Source::Cli),
            "no tracker state",
        ),
        (
            Kind::Release,
            row(P, 2, "R2", "M1", false, Source::Auto),
            "a taken milestone",
        ),
        (
            Kind::User,
            row("nobody", 1, "bob", "bob.gl", false, Source::Cli),
            "an unknown plugin",
        ),
        (
            Kind::User,
            row(P, 3, "bob", "bob.gl", false, Source::Cli),
            "a project without mapping",
        ),
        (
            Kind::User,
            row(P, 1, " ", "bob.gl", false, Source::Cli),
            "an empty value",
        ),
    ];
    for (kind, clash, what) in clashes {
        assert_refused(s.add_mapping(kind, &clash), what);
    }
    let after: Vec<_> = Kind::ALL.map(|k| s.mappings(k, None, None).unwrap()).into();
    assert_eq!(after, before);
}

/// When a release an auto row names is deleted, the engine maps its
/// milestone anew in one step: never both rows, never neither; a row a
/// person declared is never what it replaces.
pub fn an_auto_mapping_is_replaced_in_one_step(s: &mut impl Inspect) {
    s.add_mapping(Kind::Release, &row(P, 2, "R2", "m2", false, Source::Auto))
        .unwrap();
    s.replace_auto_mapping(
        Kind::Release,
        "R2",
        &row(P, 2, "R3", "m2", false, Source::Auto),
    )
    .unwrap();
    let expected = pairs(&[("R1", "m1"), ("R3", "m2")]);
    assert_eq!(listed(s, Kind::Release, Some(P), Some(2)), expected);
    // The new row clashes with a declared one: the stale row stays.
    let clash = row(P, 2, "R4", "m1", false, Source::Auto);
    assert_refused(
        s.replace_auto_mapping(Kind::Release, "R3", &clash),
        "a taken milestone",
    );
    // A declared row is not an auto row to replace.
    let over = row(P, 2, "R1", "m9", false, Source::Auto);
    assert_refused(
        s.replace_auto_mapping(Kind::Release, "R1", &over),
        "a declared row",
    );
    assert_eq!(listed(s, Kind::Release, Some(P), Some(2)), expected);
}
