//! The project and mapping tables, with the store's checks (crates/store
//! `mappings.rs`, `put_project` and `put_mapping`): the same rows are
//! refused with the same kind of error. Values compare as SQLite's
//! `COLLATE NOCASE` does (ASCII case only).

use labsync::sync::storage::{Kind, MappingRow, ProjectRow, Source};

use super::{MemoryStorage, StoreError, refused};

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

impl MemoryStorage {
    pub(super) fn table(&mut self, kind: Kind) -> &mut Vec<MappingRow> {
        self.mappings.entry(kind.name()).or_default()
    }

    pub(super) fn projects_of(&self, plugin: Option<&str>) -> Vec<ProjectRow> {
        let mut out: Vec<ProjectRow> = self
            .projects
            .iter()
            .filter(|p| plugin.is_none_or(|name| p.plugin == name))
            .cloned()
            .collect();
        out.sort_by(|a, b| (&a.plugin, a.tm_project).cmp(&(&b.plugin, b.tm_project)));
        out
    }

    pub(super) fn mappings_of(
        &self,
        kind: Kind,
        plugin: Option<&str>,
        project: Option<i64>,
    ) -> Vec<MappingRow> {
        let rows = self
            .mappings
            .get(kind.name())
            .map_or(&[][..], Vec::as_slice);
        let mut out: Vec<MappingRow> = rows
            .iter()
            .filter(|r| plugin.is_none_or(|name| r.plugin == name))
            .filter(|r| project.is_none_or(|id| r.tm_project == id))
            .cloned()
            .collect();
        out.sort_by(|a, b| {
            (&a.plugin, a.tm_project, &a.tracker_value, &a.tm_value).cmp(&(
                &b.plugin,
                b.tm_project,
                &b.tracker_value,
                &b.tm_value,
            ))
        });
        out
    }

    fn plugin_exists(&self, plugin: &str) -> Result<(), StoreError> {
        if self.plugins.contains(plugin) {
            return Ok(());
        }
        Err(refused(format!("unknown plugin '{plugin}'")))
    }

    /// A project mapping from the configuration (a new storage has no
    /// other rows it could clash with but its own).
    pub(super) fn put_project(&mut self, row: ProjectRow) -> Result<(), StoreError> {
        self.plugin_exists(&row.plugin)?;
        if row.tm_project <= 0 {
            return Err(refused(format!(
                "{} is not a Spira project id",
                row.tm_project
            )));
        }
        if row.tracker_project.trim().is_empty() {
            return Err(refused("the GitLab project is empty".into()));
        }
        let taken = self.projects.iter().find(|p| {
            p.plugin == row.plugin
                && (p.tm_project == row.tm_project || p.tracker_project == row.tracker_project)
        });
        if let Some(p) = taken {
            return Err(refused(format!(
                "Spira project {} and GitLab project {} are already mapped",
                p.tm_project, p.tracker_project
            )));
        }
        self.projects.push(row);
        Ok(())
    }

    /// One mapping row after the checks every writer shares; `replace` lets
    /// a config row take over a cli/auto row. Called on a copy.
    pub(super) fn put_mapping(
        &mut self,
        kind: Kind,
        row: &MappingRow,
        replace: bool,
    ) -> Result<(), StoreError> {
        self.plugin_exists(&row.plugin)?;
        let has_project = self
            .projects
            .iter()
            .any(|p| p.plugin == row.plugin && p.tm_project == row.tm_project);
        if !has_project {
            return Err(refused(format!(
                "plugin '{}' has no project mapping for Spira project {}",
                row.plugin, row.tm_project
            )));
        }
        let (spira, gitlab) = (row.tm_value.trim(), row.tracker_value.trim());
        if spira.is_empty() || gitlab.is_empty() {
            return Err(refused(format!(
                "a {} mapping needs both a Spira and a GitLab value",
                kind.name()
            )));
        }
        if kind == Kind::Status && gitlab != "opened" && gitlab != "closed" {
            return Err(refused(format!("'{gitlab}' is not a GitLab state")));
        }
        let (plugin, project) = (row.plugin.clone(), row.tm_project);
        let mine = move |r: &MappingRow| r.plugin == plugin && r.tm_project == project;
        let gives_way = |r: &MappingRow| replace && r.source != Source::Config;
        let table = self.table(kind);
        if let Some(old) = table.iter().find(|r| mine(r) && same(&r.tm_value, spira))
            && !gives_way(old)
        {
            return Err(refused(format!(
                "{} '{spira}' is already mapped to '{}' (source {})",
                kind.name(),
                old.tracker_value,
                old.source.as_str()
            )));
        }
        if !kind.has_primary()
            && let Some(at) = table.iter().position(|r| {
                mine(r) && same(&r.tracker_value, gitlab) && !same(&r.tm_value, spira)
            })
        {
            if !gives_way(&table[at]) {
                return Err(refused(format!(
                    "'{gitlab}' is already mapped to Spira {} '{}'; {} mappings are one-to-one",
                    kind.name(),
                    table[at].tm_value,
                    kind.name()
                )));
            }
            table.remove(at);
        }
        if kind.has_primary()
            && row.primary
            && let Some(other) = table.iter_mut().find(|r| {
                mine(r) && same(&r.tracker_value, gitlab) && r.primary && !same(&r.tm_value, spira)
            })
        {
            if !gives_way(other) {
                return Err(refused(format!(
                    "'{gitlab}' already has a primary {}: '{}'; only one may be primary",
                    kind.name(),
                    other.tm_value
                )));
            }
            other.primary = false;
        }
        let primary = kind.has_primary() && row.primary;
        // As the store's upsert: a row with the same Spira value keeps its
        // spelling of it and takes the rest.
        if let Some(old) = table
            .iter_mut()
            .find(|r| mine(r) && same(&r.tm_value, spira))
        {
            old.tracker_value = gitlab.to_string();
            old.primary = primary;
            old.source = row.source;
        } else {
            table.push(MappingRow {
                tm_value: spira.to_string(),
                tracker_value: gitlab.to_string(),
                primary,
                ..row.clone()
            });
        }
        Ok(())
    }
}
