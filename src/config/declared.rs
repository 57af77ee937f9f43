//! The part of the configuration the store keeps in its tables: plugins,
//! project mappings and mapping rows (source = config). The store does not
//! know the configuration; this is the arrow from config to store.

use crate::store::declared::{Declared, DeclaredPlugin, DeclaredProject, DeclaredRow};
use crate::store::mappings::Kind;

use super::{Config, Mapping, Plugin, ProjectMapping};

/// `store.apply_config(&config)` passes what the file declares.
impl From<&Config> for Declared {
    fn from(config: &Config) -> Declared {
        Declared {
            file: config.source.display().to_string(),
            plugins: config.plugins.iter().map(plugin).collect(),
        }
    }
}

fn plugin(p: &Plugin) -> DeclaredPlugin {
    DeclaredPlugin {
        name: p.name.clone(),
        caption: p.caption.clone(),
        enabled: p.enabled,
        projects: p.projects.iter().map(project).collect(),
    }
}

fn project(m: &ProjectMapping) -> DeclaredProject {
    // The order rows are applied in: statuses, priorities, users, releases.
    let tables = [
        (Kind::Status, &m.statuses),
        (Kind::Priority, &m.priorities),
        (Kind::User, &m.users),
        (Kind::Release, &m.releases),
    ];
    let rows = tables
        .into_iter()
        .flat_map(|(kind, rows)| rows.iter().map(move |r| row(kind, r)))
        .collect();
    DeclaredProject {
        spira_project: m.spira_project,
        gitlab_project: m.gitlab_project.clone(),
        active: m.active,
        rows,
    }
}

fn row(kind: Kind, r: &Mapping) -> DeclaredRow {
    DeclaredRow {
        kind,
        spira: r.spira.clone(),
        gitlab: r.gitlab.clone(),
        primary: r.primary,
    }
}
