//! The mapping tables: projects, statuses, priorities, users, releases.
//!
//! Rows come from plugins.toml (source = config, replaced on every load),
//! from `labsync map` (cli) or from the engine (auto). The same checks guard
//! every writer, and every change runs in one transaction: a refused change
//! leaves the tables as they were.

use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use super::{Store, StoreError};
use crate::declared::Declared;
use labsync_model::Connectors;

pub use labsync_engine::storage::{Kind, MappingRow, ProjectRow, Source};

/// Where each mapping table keeps its rows.
trait KindTable {
    fn table(self) -> &'static str;
    fn columns(self) -> (&'static str, &'static str);
    fn gitlab_noun(self) -> &'static str;
}

impl KindTable for Kind {
    fn table(self) -> &'static str {
        match self {
            Kind::Status => "status_mappings",
            Kind::Priority => "priority_mappings",
            Kind::User => "user_mappings",
            Kind::Release => "release_mappings",
        }
    }

    fn columns(self) -> (&'static str, &'static str) {
        match self {
            Kind::Status => ("tm_status", "tracker_state"),
            Kind::Priority => ("tm_priority", "tracker_label"),
            Kind::User => ("tm_user", "tracker_user"),
            Kind::Release => ("tm_release", "tracker_milestone"),
        }
    }

    fn gitlab_noun(self) -> &'static str {
        match self {
            Kind::Status => "GitLab state",
            Kind::Priority => "label",
            Kind::User => "GitLab user",
            Kind::Release => "milestone",
        }
    }
}

impl Store {
    /// Makes the tables say what plugins.toml says: config rows are replaced,
    /// cli and auto rows kept. Plugins that left the file are marked, not
    /// deleted, so their links survive. The binary's `&Config` converts
    /// into a [`Declared`].
    pub fn apply_config(&mut self, declared: impl Into<Declared>) -> Result<(), StoreError> {
        let declared = declared.into();
        let file = &declared.file;
        let now = chrono::Utc::now().to_rfc3339();
        let path = self.path.display().to_string();
        let sql = |e: rusqlite::Error| StoreError::Sqlite {
            path: path.clone(),
            reason: e.to_string(),
        };
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        tx.execute("UPDATE plugins SET in_config = 0", [])
            .map_err(sql)?;
        for p in &declared.plugins {
            tx.execute(
                "INSERT INTO plugins (name, caption, enabled, in_config, updated_at) VALUES (?1, ?2, ?3, 1, ?4)
                 ON CONFLICT (name) DO UPDATE SET caption = ?2, enabled = ?3, in_config = 1, updated_at = ?4",
                params![p.name, p.caption, p.enabled, now],
            )
            .map_err(sql)?;
        }
        for kind in Kind::ALL {
            tx.execute(
                &format!("DELETE FROM {} WHERE source = 'config'", kind.table()),
                [],
            )
            .map_err(sql)?;
        }
        tx.execute("DELETE FROM project_mappings WHERE source = 'config'", [])
            .map_err(sql)?;
        for p in &declared.plugins {
            for m in &p.projects {
                let row = ProjectRow {
                    plugin: p.name.clone(),
                    tm_project: m.spira_project,
                    tracker_project: m.gitlab_project.clone(),
                    active: m.active,
                    source: Source::Config,
                };
                put_project(&tx, &row, true).map_err(|e| refused_in(file, &p.name, e))?;
                for r in &m.rows {
                    let row = MappingRow {
                        plugin: p.name.clone(),
                        tm_project: m.spira_project,
                        tm_value: r.spira.clone(),
                        tracker_value: r.gitlab.clone(),
                        primary: r.primary,
                        source: Source::Config,
                    };
                    put_mapping(&tx, r.kind, &row, true)
                        .map_err(|e| refused_in(file, &p.name, e))?;
                }
            }
        }
        tx.commit().map_err(sql)?;
        Ok(())
    }

    pub fn plugin_names(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare("SELECT name FROM plugins ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    pub fn projects(&self, plugin: Option<&str>) -> Result<Vec<ProjectRow>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT plugin, tm_project, tracker_project, active, source FROM project_mappings
                 WHERE ?1 IS NULL OR plugin = ?1 ORDER BY plugin, tm_project",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([plugin], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (plugin, spira_project, gitlab_project, active, source) =
                row.map_err(|e| self.err(e))?;
            out.push(ProjectRow {
                plugin,
                tm_project: spira_project,
                tracker_project: gitlab_project,
                active,
                source: self.source(&source, "project_mappings")?,
            });
        }
        Ok(out)
    }

    pub fn mappings(
        &self,
        kind: Kind,
        plugin: Option<&str>,
        project: Option<i64>,
    ) -> Result<Vec<MappingRow>, StoreError> {
        let (spira_col, gitlab_col) = kind.columns();
        let primary = if kind.has_primary() {
            "is_primary"
        } else {
            "0"
        };
        let sql = format!(
            "SELECT plugin, tm_project, {spira_col}, {gitlab_col}, {primary}, source FROM {}
             WHERE (?1 IS NULL OR plugin = ?1) AND (?2 IS NULL OR tm_project = ?2)
             ORDER BY plugin, tm_project, {gitlab_col}, {spira_col}",
            kind.table()
        );
        let mut stmt = self.conn().prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![plugin, project], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (plugin, spira_project, spira, gitlab, primary, source) =
                row.map_err(|e| self.err(e))?;
            out.push(MappingRow {
                plugin,
                tm_project: spira_project,
                tm_value: spira,
                tracker_value: gitlab,
                primary,
                source: self.source(&source, kind.table())?,
            });
        }
        Ok(out)
    }

    fn source(&self, text: &str, table: &str) -> Result<Source, StoreError> {
        Source::parse(text).map_err(|reason| StoreError::Corrupt {
            path: self.path.display().to_string(),
            what: table.to_string(),
            reason,
        })
    }

    /// Adds one row from `labsync map ... add`.
    pub fn add_mapping(&mut self, kind: Kind, row: &MappingRow) -> Result<(), StoreError> {
        self.in_tx(|tx| put_mapping(tx, kind, row, false))
    }

    /// Puts `row` in place of the `auto` row keyed `stale_spira`, whose Spira
    /// value is gone (a deleted release), in one transaction.
    pub fn replace_auto_mapping(
        &mut self,
        kind: Kind,
        stale_spira: &str,
        row: &MappingRow,
    ) -> Result<(), StoreError> {
        self.in_tx(|tx| {
            let (spira_col, _) = kind.columns();
            tx.execute(
                &format!("DELETE FROM {} WHERE plugin = ?1 AND tm_project = ?2 AND {spira_col} = ?3 AND source = 'auto'", kind.table()),
                params![row.plugin, row.tm_project, stale_spira],
            )?;
            put_mapping(tx, kind, row, false)
        })
    }

    pub fn add_project(&mut self, row: &ProjectRow) -> Result<(), StoreError> {
        self.in_tx(|tx| put_project(tx, row, false))
    }

    /// Removes a cli or auto row; config rows must be removed from the file.
    pub fn remove_mapping(
        &mut self,
        kind: Kind,
        plugin: &str,
        project: i64,
        spira: &str,
    ) -> Result<(), StoreError> {
        self.in_tx(|tx| {
            let (spira_col, _) = kind.columns();
            let found = existing(tx, kind, plugin, project, spira_col, spira)?;
            match found {
                None => Err(refusal(format!(
                    "no {} mapping for '{spira}' in plugin '{plugin}', Spira project {project}",
                    kind.name()
                ))),
                Some(row) if row.source == Source::Config => Err(refusal(format!(
                    "{} mapping '{spira}' comes from plugins.toml: remove it there and reload",
                    kind.name()
                ))),
                Some(_) => {
                    tx.execute(
                        &format!("DELETE FROM {} WHERE plugin = ?1 AND tm_project = ?2 AND {spira_col} = ?3 COLLATE NOCASE", kind.table()),
                        params![plugin, project, spira],
                    )?;
                    Ok(())
                }
            }
        })
    }

    pub fn remove_project(&mut self, plugin: &str, project: i64) -> Result<(), StoreError> {
        self.in_tx(|tx| {
            let source: Option<String> = tx
                .query_row(
                    "SELECT source FROM project_mappings WHERE plugin = ?1 AND tm_project = ?2",
                    params![plugin, project],
                    |r| r.get(0),
                )
                .optional()?;
            match source.as_deref() {
                None => Err(refusal(format!("plugin '{plugin}' has no mapping for Spira project {project}"))),
                Some("config") => Err(refusal(format!(
                    "project mapping {project} of plugin '{plugin}' comes from plugins.toml: remove it there and reload"
                ))),
                Some(_) => {
                    tx.execute("DELETE FROM project_mappings WHERE plugin = ?1 AND tm_project = ?2", params![plugin, project])?;
                    Ok(())
                }
            }
        })
    }

    /// Runs `f` in a transaction; a refusal or error rolls everything back.
    pub(crate) fn in_tx<T>(
        &mut self,
        f: impl FnOnce(&Transaction) -> Result<T, TxError>,
    ) -> Result<T, StoreError> {
        let path = self.path.display().to_string();
        // Immediate: the write lock is taken (or waited for) up front. A
        // deferred transaction that read first and then writes after another
        // process committed fails at once with "database is locked".
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| StoreError::Sqlite {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        match f(&tx) {
            Ok(v) => {
                tx.commit().map_err(|e| StoreError::Sqlite {
                    path,
                    reason: e.to_string(),
                })?;
                Ok(v)
            }
            Err(TxError::Refused(msg)) => Err(StoreError::Refused(msg)),
            Err(TxError::Sqlite(e)) => Err(StoreError::Sqlite {
                path,
                reason: e.to_string(),
            }),
        }
    }
}

/// Logs a cli or auto row replaced by a plugins.toml row it clashes with.
fn replaced(kind: Kind, old: &MappingRow, new: &MappingRow) {
    tracing::warn!(plugin = %new.plugin, project = new.tm_project,
        "plugins.toml row {} '{}' → '{}' replaced the {} row '{}' → '{}'",
        kind.name(), new.tm_value, new.tracker_value, old.source.as_str(), old.tm_value, old.tracker_value);
}

fn delete_row(tx: &Transaction, kind: Kind, row: &MappingRow) -> Result<(), TxError> {
    let (spira_col, _) = kind.columns();
    tx.execute(
        &format!(
            "DELETE FROM {} WHERE plugin = ?1 AND tm_project = ?2 AND {spira_col} = ?3",
            kind.table()
        ),
        params![row.plugin, row.tm_project, row.tm_value],
    )?;
    Ok(())
}

/// An error inside a transaction: a refusal (user input) or SQLite.
pub(crate) enum TxError {
    Refused(String),
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for TxError {
    fn from(e: rusqlite::Error) -> Self {
        TxError::Sqlite(e)
    }
}

fn refusal(msg: String) -> TxError {
    TxError::Refused(msg)
}

fn refused_in(file: &str, plugin: &str, e: TxError) -> StoreError {
    match e {
        TxError::Refused(msg) => StoreError::Refused(format!("{file}: plugin '{plugin}': {msg}")),
        TxError::Sqlite(e) => StoreError::Sqlite {
            path: file.to_string(),
            reason: e.to_string(),
        },
    }
}

fn plugin_exists(tx: &Transaction, plugin: &str) -> Result<(), TxError> {
    let found: Option<i64> = tx
        .query_row("SELECT 1 FROM plugins WHERE name = ?1", [plugin], |r| {
            r.get(0)
        })
        .optional()?;
    if found.is_some() {
        return Ok(());
    }
    let mut stmt = tx.prepare("SELECT name FROM plugins ORDER BY name")?;
    let known: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Err(refusal(format!(
        "unknown plugin '{plugin}' (known: {})",
        if known.is_empty() {
            "none; define plugins in plugins.toml".to_string()
        } else {
            known.join(", ")
        }
    )))
}

/// A project mapping through the checks of `labsync map project add`.
pub(crate) fn put_project_checked(tx: &Transaction, row: &ProjectRow) -> Result<(), TxError> {
    put_project(tx, row, false)
}

/// Inserts a project mapping; `replace` lets a config row take over a row
/// with the same Spira project.
fn put_project(tx: &Transaction, row: &ProjectRow, replace: bool) -> Result<(), TxError> {
    plugin_exists(tx, &row.plugin)?;
    if row.tm_project <= 0 {
        return Err(refusal(format!(
            "{} is not a Spira project id",
            row.tm_project
        )));
    }
    if row.tracker_project.trim().is_empty() {
        return Err(refusal(
            "the GitLab project is empty: give its id or path (group/project)".into(),
        ));
    }
    let same: Option<(String, String)> = tx
        .query_row(
            "SELECT tracker_project, source FROM project_mappings WHERE plugin = ?1 AND tm_project = ?2",
            params![row.plugin, row.tm_project],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((gitlab, source)) = &same
        && !replace
    {
        return Err(refusal(format!(
            "Spira project {} is already mapped to GitLab project {gitlab} (source {source})",
            row.tm_project
        )));
    }
    let taken: Option<(i64, String)> = tx
        .query_row(
            "SELECT tm_project, source FROM project_mappings WHERE plugin = ?1 AND tracker_project = ?2 AND tm_project <> ?3",
            params![row.plugin, row.tracker_project, row.tm_project],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((other, source)) = taken {
        return Err(refusal(format!(
            "GitLab project {} is already mapped to Spira project {other} (source {source})",
            row.tracker_project
        )));
    }
    // Spira and GitLab are the only connectors a plugin can name today.
    let connectors = Connectors::SPIRA_GITLAB;
    tx.execute(
        "INSERT INTO project_mappings (plugin, tm_project, tracker_project, tm_connector, tracker_connector, active, source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (plugin, tm_project) DO UPDATE SET
           tracker_project = ?3, tm_connector = ?4, tracker_connector = ?5, active = ?6, source = ?7",
        params![
            row.plugin, row.tm_project, row.tracker_project,
            connectors.test_management.name, connectors.issue_tracker.name,
            row.active, row.source.as_str()
        ],
    )?;
    Ok(())
}

fn existing(
    tx: &Transaction,
    kind: Kind,
    plugin: &str,
    project: i64,
    col: &str,
    value: &str,
) -> Result<Option<MappingRow>, TxError> {
    let (spira_col, gitlab_col) = kind.columns();
    let primary = if kind.has_primary() {
        "is_primary"
    } else {
        "0"
    };
    let sql = format!(
        "SELECT {spira_col}, {gitlab_col}, {primary}, source FROM {} WHERE plugin = ?1 AND tm_project = ?2 AND {col} = ?3 COLLATE NOCASE",
        kind.table()
    );
    let found: Option<(String, String, bool, String)> = tx
        .query_row(&sql, params![plugin, project, value], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    found
        .map(|(spira, gitlab, primary, source)| {
            let source =
                Source::parse(&source).map_err(|e| refusal(format!("{}: {e}", kind.table())))?;
            Ok(MappingRow {
                plugin: plugin.to_string(),
                tm_project: project,
                tm_value: spira,
                tracker_value: gitlab,
                primary,
                source,
            })
        })
        .transpose()
}

/// Inserts a mapping row after the checks every writer shares; `replace`
/// lets a config row take over a cli/auto row with the same Spira key.
pub(crate) fn put_mapping(
    tx: &Transaction,
    kind: Kind,
    row: &MappingRow,
    replace: bool,
) -> Result<(), TxError> {
    plugin_exists(tx, &row.plugin)?;
    let has_project: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM project_mappings WHERE plugin = ?1 AND tm_project = ?2",
            params![row.plugin, row.tm_project],
            |r| r.get(0),
        )
        .optional()?;
    if has_project.is_none() {
        return Err(refusal(format!(
            "plugin '{}' has no project mapping for Spira project {} (add one first: labsync map project add)",
            row.plugin, row.tm_project
        )));
    }
    let (spira, gitlab) = (row.tm_value.trim(), row.tracker_value.trim());
    if spira.is_empty() || gitlab.is_empty() {
        return Err(refusal(format!(
            "a {} mapping needs both a Spira and a GitLab value",
            kind.name()
        )));
    }
    if kind == Kind::Status && gitlab != "opened" && gitlab != "closed" {
        return Err(refusal(format!(
            "'{gitlab}' is not a GitLab state: use opened or closed"
        )));
    }
    let what = format!("{} '{spira}'", kind.name());
    let (spira_col, gitlab_col) = kind.columns();
    let old = existing(tx, kind, &row.plugin, row.tm_project, spira_col, spira)?;
    if let Some(old) = &old
        && replace
        && old.source != Source::Config
        && !old.tracker_value.eq_ignore_ascii_case(gitlab)
    {
        replaced(kind, old, row);
    }
    if let Some(old) = old
        && !(replace && old.source != Source::Config)
    {
        return Err(refusal(format!(
            "{what} is already mapped to {} '{}' (source {}){}",
            kind.gitlab_noun(),
            old.tracker_value,
            old.source.as_str(),
            if old.source == Source::Config {
                ": change it in plugins.toml"
            } else {
                ": remove it first"
            }
        )));
    }
    if !kind.has_primary()
        && let Some(old) = existing(tx, kind, &row.plugin, row.tm_project, gitlab_col, gitlab)?
        && !old.tm_value.eq_ignore_ascii_case(spira)
    {
        // plugins.toml wins: the row of labsync map or of the engine gives way.
        if !(replace && old.source != Source::Config) {
            return Err(refusal(format!(
                "{} '{gitlab}' is already mapped to Spira {} '{}' (source {}); {} mappings are one-to-one",
                kind.gitlab_noun(),
                kind.name(),
                old.tm_value,
                old.source.as_str(),
                kind.name()
            )));
        }
        replaced(kind, &old, row);
        delete_row(tx, kind, &old)?;
    }
    if kind.has_primary() && row.primary {
        let sql = format!(
            "SELECT {spira_col}, source FROM {} WHERE plugin = ?1 AND tm_project = ?2 AND {gitlab_col} = ?3 COLLATE NOCASE
             AND is_primary = 1 AND {spira_col} <> ?4 COLLATE NOCASE",
            kind.table()
        );
        let other: Option<(String, String)> = tx
            .query_row(
                &sql,
                params![row.plugin, row.tm_project, gitlab, spira],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((other, source)) = other {
            if !(replace && source != Source::Config.as_str()) {
                return Err(refusal(format!(
                    "{} '{gitlab}' already has a primary {}: '{other}' (source {source}); only one may be primary",
                    kind.gitlab_noun(),
                    kind.name()
                )));
            }
            // plugins.toml wins: the other row stays, no longer primary.
            tracing::warn!(plugin = %row.plugin, project = row.tm_project,
                "plugins.toml makes {} '{spira}' the primary of '{gitlab}': {} '{other}' (source {source}) is no longer primary",
                kind.name(), kind.name());
            tx.execute(
                &format!("UPDATE {} SET is_primary = 0 WHERE plugin = ?1 AND tm_project = ?2 AND {spira_col} = ?3", kind.table()),
                params![row.plugin, row.tm_project, other],
            )?;
        }
    }
    let sql = if kind.has_primary() {
        format!(
            "INSERT INTO {t} (plugin, tm_project, {spira_col}, {gitlab_col}, is_primary, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT DO UPDATE SET {gitlab_col} = ?4, is_primary = ?5, source = ?6",
            t = kind.table()
        )
    } else {
        format!(
            "INSERT INTO {t} (plugin, tm_project, {spira_col}, {gitlab_col}, source) VALUES (?1, ?2, ?3, ?4, ?6)
             ON CONFLICT DO UPDATE SET {gitlab_col} = ?4, source = ?6",
            t = kind.table()
        )
    };
    tx.execute(
        &sql,
        params![
            row.plugin,
            row.tm_project,
            spira,
            gitlab,
            row.primary,
            row.source.as_str()
        ],
    )?;
    Ok(())
}
