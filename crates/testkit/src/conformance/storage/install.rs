//! The install's id and the servers each project mapping is bound to.

use labsync::sync::storage::Binding;

use super::{Inspect, P, Q};

fn binding(plugin: &str, project: i64, tracker: &str) -> Binding {
    Binding {
        plugin: plugin.into(),
        tm_project: project,
        tm_url: "https://tm.invalid".into(),
        tracker_url: tracker.into(),
        tracker_project: format!("g/{project}"),
    }
}

/// The install id is written on the servers to tell installs apart: it
/// must not change between cycles, only when `labsync rebind` adopts one.
pub fn the_install_id_is_stable(s: &mut impl Inspect) {
    let id = s.install_id().unwrap();
    assert!(!id.is_empty());
    assert_eq!(s.install_id().unwrap(), id);
    s.rebind(P, None).unwrap();
    assert_eq!(
        s.install_id().unwrap(),
        id,
        "a rebind without adopting changed it"
    );
    s.rebind(P, Some("00000000000000aa")).unwrap();
    assert_eq!(s.install_id().unwrap(), "00000000000000aa");
}

/// A cycle refuses servers other than those a project mapping was bound
/// to, until `labsync rebind` forgets the plugin's bindings (and only its).
pub fn a_binding_is_kept_until_rebound(s: &mut impl Inspect) {
    assert_eq!(s.binding(P, 1).unwrap(), None);
    let first = binding(P, 1, "https://old.invalid");
    let moved = binding(P, 1, "https://new.invalid");
    let second = binding(P, 2, "https://new.invalid");
    let other = binding(Q, 1, "https://new.invalid");
    for b in [&first, &second, &other] {
        s.bind(b).unwrap();
    }
    assert_eq!(s.binding(P, 1).unwrap(), Some(first));
    s.bind(&moved).unwrap();
    assert_eq!(s.binding(P, 1).unwrap(), Some(moved.clone()));
    assert_eq!(s.rebind(P, None).unwrap(), [moved, second]);
    assert_eq!(s.binding(P, 1).unwrap(), None);
    assert_eq!(s.binding(P, 2).unwrap(), None);
    assert_eq!(s.binding(Q, 1).unwrap(), Some(other));
    assert_eq!(s.rebind(P, None).unwrap(), []);
}
