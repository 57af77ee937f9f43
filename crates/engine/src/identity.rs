//! Whose projects a database syncs. Each project mapping is bound to the
//! servers and projects it was first synced with, and the install's id is
//! kept on the GitLab project (a label), so that a database pointed at other
//! servers, or a second install over the same ones, stops with one clear
//! error instead of multiplying items (issue 13).
//!
//! Why a label: it is the one project-level record a labsync token can
//! always write and anyone can read. Project CI/CD variables need the
//! Maintainer role (and hide their values from Developers); the project
//! description needs Maintainer and is the team's; an issue would be listed
//! and synced like any other. Labels are created by labsync anyway (the
//! priority labels), and their names are unique per project, so a create
//! is a compare-and-set: of two installs starting at once, the first label
//! wins and the other reads it back. Spira offers no such project-level
//! record to a plain user, so the identity lives on the GitLab side only.

use crate::settings::Settings;
use crate::storage::Storage;
use crate::storage::{Binding, normalized_url};

use super::SyncError;
use super::connector::{IssueTracker, TrackerLabel};

/// The label that names the install syncing a GitLab project.
pub const INSTALL_LABEL: &str = "labsync-install";

const OWNER_PREFIX: &str = "labsync install ";

/// What the configuration says a project mapping syncs.
pub fn configured(plugin: &Settings, tm_project: i64, tracker_project: &str) -> Binding {
    Binding {
        plugin: plugin.name.clone(),
        tm_project,
        tm_url: normalized_url(plugin.tm_url.as_str()),
        tracker_url: normalized_url(plugin.tracker_url.as_str()),
        tracker_project: tracker_project.trim().trim_matches('/').to_string(),
    }
}

/// Checks that the database belongs to the configured servers and that no
/// other install syncs the GitLab project; binds a project mapping synced
/// for the first time (its install label created when missing).
pub async fn ensure_bound(
    plugin: &Settings,
    tracker: &dyn IssueTracker,
    store: &mut dyn Storage,
    tm_project: i64,
    tracker_project: &str,
) -> Result<(), SyncError> {
    let Unbound { want, label } =
        match found(plugin, tracker, store, tm_project, tracker_project).await? {
            Some(unbound) => unbound,
            None => return Ok(()),
        };
    let install = store.install_id()?;
    let label = match label {
        Some(label) => label,
        // Created unless someone was first: then theirs comes back.
        None => {
            let new = install_label(plugin, &install);
            tracker.create_label(tracker_project, &new).await?
        }
    };
    owned(plugin, tracker_project, &label, &install)?;
    store.bind(&want)?;
    tracing::info!(plugin = %plugin.name, install = %install, "bound to {}", want.describe());
    Ok(())
}

/// The checks of [`ensure_bound`], recording nothing (for `labsync plan`):
/// a project without an install label yet is one the next sync binds.
pub async fn check(
    plugin: &Settings,
    tracker: &dyn IssueTracker,
    store: &dyn Storage,
    tm_project: i64,
    tracker_project: &str,
) -> Result<(), SyncError> {
    let found = found(plugin, tracker, store, tm_project, tracker_project).await?;
    match found {
        Some(Unbound {
            label: Some(label), ..
        }) => owned(plugin, tracker_project, &label, &store.install_id()?),
        _ => Ok(()),
    }
}

/// A project mapping not bound yet: what it is to be bound to, and the
/// install label found on the GitLab project, if any.
struct Unbound {
    want: Binding,
    label: Option<TrackerLabel>,
}

/// `None` when the mapping is bound to the configured servers already; an
/// error when it is bound to others.
async fn found(
    plugin: &Settings,
    tracker: &dyn IssueTracker,
    store: &dyn Storage,
    tm_project: i64,
    tracker_project: &str,
) -> Result<Option<Unbound>, SyncError> {
    let want = configured(plugin, tm_project, tracker_project);
    match store.binding(&plugin.name, tm_project)? {
        Some(bound) if bound == want => return Ok(None),
        Some(bound) => {
            return Err(SyncError::Config(format!(
                "this database syncs {}, but the configuration names {}; if that change is intended, run `labsync rebind {}` (with the same --db)",
                bound.describe(),
                want.describe(),
                plugin.name
            )));
        }
        None => {}
    }
    let label = tracker.find_label(tracker_project, INSTALL_LABEL).await?;
    Ok(Some(Unbound { want, label }))
}

/// Whether the install `label` names is this one (or shares the project).
fn owned(
    plugin: &Settings,
    tracker_project: &str,
    label: &TrackerLabel,
    install: &str,
) -> Result<(), SyncError> {
    match owner_of(label) {
        Some(o) if o == install => Ok(()),
        Some(o) if plugin.share_projects => {
            tracing::warn!(plugin = %plugin.name, other = %o, "GitLab project {tracker_project} is synced by another labsync install too (share_projects = true)");
            Ok(())
        }
        Some(o) => Err(SyncError::Config(format!(
            "GitLab project {tracker_project} is synced by another labsync install ({o}, named by its label '{INSTALL_LABEL}'); this database is install {install}. Run one install per project; if that install is gone (its database lost or moved here), run `labsync rebind {}`; if both are meant to sync it, set share_projects = true in both",
            plugin.name
        ))),
        None => Err(SyncError::Config(format!(
            "GitLab project {tracker_project} has a label '{INSTALL_LABEL}' that names no labsync install; delete it, or give it the description \"{OWNER_PREFIX}{install}\""
        ))),
    }
}

fn install_label(plugin: &Settings, install: &str) -> TrackerLabel {
    TrackerLabel {
        name: INSTALL_LABEL.into(),
        color: "#6C757D".into(),
        description: Some(format!(
            "{OWNER_PREFIX}{install} syncs this project with Spira {} (plugin '{}'). Another labsync install refuses to sync it unless both set share_projects = true.",
            normalized_url(plugin.tm_url.as_str()),
            plugin.name
        )),
    }
}

/// The install a label's description names.
fn owner_of(label: &TrackerLabel) -> Option<String> {
    let text = label.description.as_deref()?;
    let rest = &text[text.find(OWNER_PREFIX)? + OWNER_PREFIX.len()..];
    let id: String = rest
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    (!id.is_empty()).then_some(id)
}

/// What `labsync rebind` did.
#[derive(Debug, Default)]
pub struct Rebound {
    /// The bindings forgotten.
    pub forgotten: Vec<Binding>,
    /// The install id this database took over from the GitLab label, if it
    /// named another.
    pub adopted: Option<String>,
}

/// Makes this database the one for the plugin's configured servers: its
/// bindings are forgotten (the next cycle binds to what is configured), and
/// when the GitLab project's label names another install, this database
/// takes that install's id (it replaces a lost or moved database).
pub async fn rebind(
    plugin: &Settings,
    tracker: &dyn IssueTracker,
    store: &mut dyn Storage,
) -> Result<Rebound, SyncError> {
    let mut named = Vec::new();
    for p in store.projects(Some(&plugin.name))? {
        if !p.active {
            continue;
        }
        if let Some(label) = tracker
            .find_label(&p.tracker_project, INSTALL_LABEL)
            .await?
        {
            named.extend(owner_of(&label));
        }
    }
    named.sort();
    named.dedup();
    if named.len() > 1 {
        return Err(SyncError::Config(format!(
            "plugin '{}': its GitLab projects name {} different installs ({}); rebind one plugin per install",
            plugin.name,
            named.len(),
            named.join(", ")
        )));
    }
    let ours = store.install_id()?;
    let adopted = named.pop().filter(|o| *o != ours);
    let forgotten = store.rebind(&plugin.name, adopted.as_deref())?;
    Ok(Rebound { forgotten, adopted })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(description: Option<&str>) -> TrackerLabel {
        TrackerLabel {
            name: INSTALL_LABEL.into(),
            color: "#000000".into(),
            description: description.map(String::from),
        }
    }

    #[test]
    fn the_owner_is_read_back_from_the_description() {
        let said = "labsync install 0a1b2c3d4e5f6789 syncs this project with Spira x.";
        assert_eq!(
            owner_of(&label(Some(said))).as_deref(),
            Some("0a1b2c3d4e5f6789")
        );
        assert_eq!(owner_of(&label(Some("made by hand"))), None);
        assert_eq!(owner_of(&label(None)), None);
    }
}
