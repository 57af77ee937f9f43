//! `labsync map ...`: the mapping tables, for admins and scripts.

use std::path::PathBuf;

use super::table::Table;
use super::{Exit, Globals, fail, load_config, open_store_for_map};
use crate::store::Store;
use crate::store::exchange::Exchange;
use crate::store::mappings::{Kind, MappingRow, ProjectRow, Source};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapTable {
    Project,
    Status,
    Priority,
    User,
    Release,
}

impl MapTable {
    fn kind(self) -> Option<Kind> {
        match self {
            MapTable::Project => None,
            MapTable::Status => Some(Kind::Status),
            MapTable::Priority => Some(Kind::Priority),
            MapTable::User => Some(Kind::User),
            MapTable::Release => Some(Kind::Release),
        }
    }
}

#[derive(Debug)]
pub enum MapCommand {
    List {
        table: Option<MapTable>,
        plugin: Option<String>,
        project: Option<i64>,
        json: bool,
    },
    Add {
        table: MapTable,
        plugin: Option<String>,
        project: Option<i64>,
        spira: String,
        gitlab: String,
        primary: bool,
    },
    Remove {
        table: MapTable,
        plugin: Option<String>,
        project: Option<i64>,
        spira: String,
    },
    AddProject {
        plugin: Option<String>,
        spira_project: i64,
        gitlab_project: String,
        active: bool,
    },
    RemoveProject {
        plugin: Option<String>,
        spira_project: i64,
    },
    Export {
        plugin: Option<String>,
        output: Option<PathBuf>,
    },
    Import {
        file: PathBuf,
    },
}

pub fn map(globals: &Globals, command: MapCommand) -> Exit {
    let config = match load_config(globals) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let read_only = matches!(command, MapCommand::List { .. } | MapCommand::Export { .. });
    let mut store = match open_store_for_map(globals, &config, read_only) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match run(&mut store, command) {
        Ok(()) => Exit::Ok,
        Err(message) => {
            fail(message);
            Exit::Config
        }
    }
}

fn run(store: &mut Store, command: MapCommand) -> Result<(), String> {
    let e = |e: crate::store::StoreError| e.to_string();
    match command {
        MapCommand::List {
            table,
            plugin,
            project,
            json,
        } => list(store, table, plugin.as_deref(), project, json),
        MapCommand::Add {
            table,
            plugin,
            project,
            spira,
            gitlab,
            primary,
        } => {
            let kind = table
                .kind()
                .ok_or("use `labsync map project add` for projects")?;
            if primary && !kind.has_primary() {
                return Err(format!(
                    "--primary applies to status and priority mappings, not {}",
                    kind.name()
                ));
            }
            let plugin = pick_plugin(store, plugin)?;
            let spira_project = pick_project(store, &plugin, project)?;
            let row = MappingRow {
                plugin,
                tm_project: spira_project,
                tm_value: spira,
                tracker_value: gitlab,
                primary,
                source: Source::Cli,
            };
            store.add_mapping(kind, &row).map_err(e)?;
            println!(
                "added {} mapping '{}' → '{}'{}",
                kind.name(),
                row.tm_value,
                row.tracker_value,
                if primary { " (primary)" } else { "" }
            );
            Ok(())
        }
        MapCommand::Remove {
            table,
            plugin,
            project,
            spira,
        } => {
            let kind = table
                .kind()
                .ok_or("use `labsync map project remove` for projects")?;
            let plugin = pick_plugin(store, plugin)?;
            let spira_project = pick_project(store, &plugin, project)?;
            store
                .remove_mapping(kind, &plugin, spira_project, &spira)
                .map_err(e)?;
            println!("removed {} mapping '{spira}'", kind.name());
            Ok(())
        }
        MapCommand::AddProject {
            plugin,
            spira_project,
            gitlab_project,
            active,
        } => {
            let plugin = pick_plugin(store, plugin)?;
            let row = ProjectRow {
                plugin,
                tm_project: spira_project,
                tracker_project: gitlab_project,
                active,
                source: Source::Cli,
            };
            store.add_project(&row).map_err(e)?;
            println!(
                "added project mapping: Spira project {} ↔ GitLab project {}",
                row.tm_project, row.tracker_project
            );
            Ok(())
        }
        MapCommand::RemoveProject {
            plugin,
            spira_project,
        } => {
            let plugin = pick_plugin(store, plugin)?;
            store.remove_project(&plugin, spira_project).map_err(e)?;
            println!("removed project mapping for Spira project {spira_project}");
            Ok(())
        }
        MapCommand::Export { plugin, output } => {
            let data = store.export_mappings(plugin.as_deref()).map_err(e)?;
            let text =
                toml::to_string_pretty(&data).map_err(|err| format!("cannot write TOML: {err}"))?;
            let text = format!(
                "# labsync mapping tables, exported {}\n{text}",
                chrono::Utc::now().to_rfc3339()
            );
            match output {
                Some(path) => write_atomically(&path, &text),
                None => {
                    print!("{text}");
                    Ok(())
                }
            }
        }
        MapCommand::Import { file } => {
            let shown = file.display().to_string();
            let text = std::fs::read_to_string(&file)
                .map_err(|err| format!("{shown}: cannot read: {err}"))?;
            let data: Exchange = toml::from_str(&text)
                .map_err(|err| format!("{shown}: {}", one_line(&err.to_string())))?;
            let report = store.import_mappings(&shown, &data).map_err(e)?;
            println!(
                "imported {shown}: {} row(s) added, {} already present",
                report.added, report.unchanged
            );
            Ok(())
        }
    }
}

/// The named plugin, or the only one there is.
fn pick_plugin(store: &Store, plugin: Option<String>) -> Result<String, String> {
    let names = store.plugin_names().map_err(|e| e.to_string())?;
    if let Some(p) = plugin {
        if names.contains(&p) {
            return Ok(p);
        }
        return Err(format!(
            "unknown plugin '{p}' (known: {})",
            names.join(", ")
        ));
    }
    match names.as_slice() {
        [only] => Ok(only.clone()),
        [] => Err("no plugin is defined in the configuration".into()),
        many => Err(format!(
            "several plugins exist ({}): choose one with --plugin",
            many.join(", ")
        )),
    }
}

/// The given Spira project, or the plugin's only one.
fn pick_project(store: &Store, plugin: &str, project: Option<i64>) -> Result<i64, String> {
    if let Some(p) = project {
        return Ok(p);
    }
    let projects = store.projects(Some(plugin)).map_err(|e| e.to_string())?;
    match projects.as_slice() {
        [only] => Ok(only.tm_project),
        [] => Err(format!(
            "plugin '{plugin}' has no project mapping (add one: labsync map project add)"
        )),
        _ => Err(format!(
            "plugin '{plugin}' maps several projects: choose one with --project"
        )),
    }
}

fn list(
    store: &Store,
    table: Option<MapTable>,
    plugin: Option<&str>,
    project: Option<i64>,
    json: bool,
) -> Result<(), String> {
    let e = |e: crate::store::StoreError| e.to_string();
    let tables: Vec<MapTable> = match table {
        Some(t) => vec![t],
        None => vec![
            MapTable::Project,
            MapTable::Status,
            MapTable::Priority,
            MapTable::User,
            MapTable::Release,
        ],
    };
    let mut out = serde_json::Map::new();
    for t in tables {
        let (title, rendered, value) = match t.kind() {
            None => {
                let rows: Vec<ProjectRow> = store
                    .projects(plugin)
                    .map_err(e)?
                    .into_iter()
                    .filter(|r| project.is_none_or(|p| p == r.tm_project))
                    .collect();
                let mut table = Table::new(&[
                    "PLUGIN",
                    "SPIRA PROJECT",
                    "GITLAB PROJECT",
                    "ACTIVE",
                    "SOURCE",
                ]);
                for r in &rows {
                    table.row(vec![
                        r.plugin.clone(),
                        r.tm_project.to_string(),
                        r.tracker_project.clone(),
                        if r.active { "yes" } else { "no" }.into(),
                        r.source.as_str().into(),
                    ]);
                }
                ("projects", table, serde_json::to_value(&rows))
            }
            Some(kind) => {
                let rows = store.mappings(kind, plugin, project).map_err(e)?;
                let gitlab_header = match kind {
                    Kind::Status => "GITLAB STATE",
                    Kind::Priority => "GITLAB LABEL",
                    Kind::User => "GITLAB USER",
                    Kind::Release => "GITLAB MILESTONE",
                };
                let mut table = Table::new(&[
                    "PLUGIN",
                    "PROJECT",
                    "SPIRA",
                    gitlab_header,
                    "PRIMARY",
                    "SOURCE",
                ]);
                for r in &rows {
                    table.row(vec![
                        r.plugin.clone(),
                        r.tm_project.to_string(),
                        r.tm_value.clone(),
                        r.tracker_value.clone(),
                        if !kind.has_primary() {
                            "-"
                        } else if r.primary {
                            "yes"
                        } else {
                            "no"
                        }
                        .into(),
                        r.source.as_str().into(),
                    ]);
                }
                let title = match kind {
                    Kind::Status => "statuses",
                    Kind::Priority => "priorities",
                    Kind::User => "users",
                    Kind::Release => "releases",
                };
                (title, table, serde_json::to_value(&rows))
            }
        };
        if json {
            out.insert(title.to_string(), value.map_err(|err| err.to_string())?);
        } else {
            println!("{title}:");
            if rendered.is_empty() {
                println!("  (none)\n");
            } else {
                println!("{}", rendered.render());
            }
        }
    }
    if json {
        println!("{}", serde_json::Value::Object(out));
    }
    Ok(())
}

/// Writes via a temporary file and a rename, so a reader never sees half a file.
fn write_atomically(path: &std::path::Path, text: &str) -> Result<(), String> {
    let shown = path.display();
    let tmp = path.with_extension("tmp-labsync");
    std::fs::write(&tmp, text).map_err(|e| format!("{shown}: cannot write: {e}"))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{shown}: cannot write: {e}"))?;
    println!("wrote {shown}");
    Ok(())
}

fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|') && !l.starts_with('^'))
        .collect::<Vec<_>>()
        .join(": ")
}
