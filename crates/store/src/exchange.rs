//! `labsync map export` / `labsync map import`: the mapping tables as TOML.
//!
//! An import is all or nothing: every row passes the same checks as
//! `labsync map add`, in one transaction. Rows identical to what the
//! database holds are left alone, so importing an export is a no-op.

use serde::{Deserialize, Serialize};

use super::mappings::{Kind, MappingRow, ProjectRow, Source, TxError, put_mapping};
use super::{Store, StoreError};

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    #[serde(default)]
    pub projects: Vec<ProjectRow>,
    #[serde(default)]
    pub statuses: Vec<MappingRow>,
    #[serde(default)]
    pub priorities: Vec<MappingRow>,
    #[serde(default)]
    pub users: Vec<MappingRow>,
    #[serde(default)]
    pub releases: Vec<MappingRow>,
}

impl Exchange {
    fn tables(&self) -> [(Kind, &'static str, &Vec<MappingRow>); 4] {
        [
            (Kind::Status, "statuses", &self.statuses),
            (Kind::Priority, "priorities", &self.priorities),
            (Kind::User, "users", &self.users),
            (Kind::Release, "releases", &self.releases),
        ]
    }
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub added: usize,
    pub unchanged: usize,
}

impl Store {
    pub fn export_mappings(&self, plugin: Option<&str>) -> Result<Exchange, StoreError> {
        Ok(Exchange {
            projects: self.projects(plugin)?,
            statuses: self.mappings(Kind::Status, plugin, None)?,
            priorities: self.mappings(Kind::Priority, plugin, None)?,
            users: self.mappings(Kind::User, plugin, None)?,
            releases: self.mappings(Kind::Release, plugin, None)?,
        })
    }

    /// Imports `data`; `origin` names the file in messages.
    pub fn import_mappings(
        &mut self,
        origin: &str,
        data: &Exchange,
    ) -> Result<ImportReport, StoreError> {
        let have = self.export_mappings(None)?;
        self.in_tx(|tx| {
            let mut report = ImportReport::default();
            for (i, p) in data.projects.iter().enumerate() {
                if have.projects.iter().any(|h| same_project(h, p)) {
                    report.unchanged += 1;
                    continue;
                }
                let row = ProjectRow {
                    source: imported_source(p.source),
                    ..p.clone()
                };
                add_project_tx(tx, &row).map_err(|e| at(origin, "projects", i, e))?;
                report.added += 1;
            }
            for (kind, name, rows) in data.tables() {
                let current = have
                    .tables()
                    .into_iter()
                    .find(|(k, _, _)| *k == kind)
                    .map(|t| t.2.clone())
                    .unwrap_or_default();
                for (i, r) in rows.iter().enumerate() {
                    if current.iter().any(|h| same_mapping(h, r)) {
                        report.unchanged += 1;
                        continue;
                    }
                    let row = MappingRow {
                        source: imported_source(r.source),
                        ..r.clone()
                    };
                    put_mapping(tx, kind, &row, false).map_err(|e| at(origin, name, i, e))?;
                    report.added += 1;
                }
            }
            Ok(report)
        })
    }
}

/// A config row only stays config while plugins.toml says it; one that the
/// current file lacks becomes a cli row, so the next reload keeps it.
fn imported_source(source: Source) -> Source {
    match source {
        Source::Config => Source::Cli,
        other => other,
    }
}

fn same_project(a: &ProjectRow, b: &ProjectRow) -> bool {
    a.plugin == b.plugin
        && a.tm_project == b.tm_project
        && a.tracker_project == b.tracker_project
        && a.active == b.active
}

fn same_mapping(a: &MappingRow, b: &MappingRow) -> bool {
    a.plugin == b.plugin
        && a.tm_project == b.tm_project
        && a.tm_value.eq_ignore_ascii_case(&b.tm_value)
        && a.tracker_value.eq_ignore_ascii_case(&b.tracker_value)
        && a.primary == b.primary
}

fn add_project_tx(tx: &rusqlite::Transaction, row: &ProjectRow) -> Result<(), TxError> {
    super::mappings::put_project_checked(tx, row)
}

fn at(origin: &str, table: &str, index: usize, e: TxError) -> TxError {
    match e {
        TxError::Refused(msg) => TxError::Refused(format!(
            "{origin}: {table}[{index}]: {msg}; nothing was imported"
        )),
        other => other,
    }
}
