//! What the configuration declares for the tables (source = config): the
//! plugins, their project mappings and their mapping rows.
//!
//! The store does not read plugins.toml; the binary builds a [`Declared`]
//! from its validated configuration, and [`Store::apply_config`] makes the
//! tables say it.
//!
//! [`Store::apply_config`]: crate::Store::apply_config

use crate::mappings::Kind;

/// Everything plugins.toml declares that the tables keep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Declared {
    /// The file it was read from, named in every refusal.
    pub file: String,
    pub plugins: Vec<DeclaredPlugin>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredPlugin {
    pub name: String,
    pub caption: String,
    pub enabled: bool,
    pub projects: Vec<DeclaredProject>,
}

/// One project mapping and its mapping rows, applied in their order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredProject {
    pub spira_project: i64,
    pub gitlab_project: String,
    pub active: bool,
    pub rows: Vec<DeclaredRow>,
}

/// One row of a status, priority, user or release table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredRow {
    pub kind: Kind,
    pub spira: String,
    pub gitlab: String,
    /// Only status and priority rows have a primary.
    pub primary: bool,
}
