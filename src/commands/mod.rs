//! What each `labsync` subcommand does. main.rs parses; these run and print.
//! Each returns an [`Exit`] code; messages go to stderr as single lines.

mod check;
mod check_gitlab;
mod check_maps;
mod check_probe;
mod check_remote;
#[cfg(feature = "sim")]
mod demo;
mod health;
mod map;
mod rebind;
mod retry;
mod run;
#[cfg(feature = "sim")]
mod sim;
mod status;
mod sync;
mod table;

use std::path::{Path, PathBuf};

pub use check::check;
#[cfg(feature = "sim")]
pub use demo::{DemoArgs, demo};
pub use map::{MapCommand, MapTable, map};
pub use rebind::rebind;
pub use retry::retry;
pub use run::run;
#[cfg(feature = "sim")]
pub use sim::{SimArgs, sim};
pub use status::status;
pub use sync::{plan, sync};

use crate::config::Config;
use crate::logging::{Say, say};
use crate::runtime::Workers;
use crate::store::Store;

/// Exit codes, as documented in the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    /// Some items failed; they wait in the error queue.
    ItemsFailed = 1,
    /// Configuration, database or connection error: nothing could be done.
    Config = 2,
    Usage = 64,
    /// Stopped by Ctrl-C (SIGINT) or SIGTERM before the end: 128 + the
    /// signal's number, as shells report it.
    Interrupted = 130,
    Terminated = 143,
}

/// Options every command shares.
#[derive(Debug, Clone)]
pub struct Globals {
    pub config: PathBuf,
    pub db: Option<PathBuf>,
}

impl Globals {
    /// `--db`/LABSYNC_DB, then `database` in the config, then systemd's
    /// $STATE_DIRECTORY, then /var/lib/labsync.
    pub fn db_path(&self, config: Option<&Config>) -> PathBuf {
        if let Some(db) = &self.db {
            return db.clone();
        }
        if let Some(db) = config.and_then(|c| c.database.clone()) {
            return db;
        }
        state_directory_db(std::env::var("STATE_DIRECTORY").ok().as_deref())
    }
}

/// systemd may list several state directories separated by ':'; ours is the first.
fn state_directory_db(state_dir: Option<&str>) -> PathBuf {
    match state_dir
        .and_then(|s| s.split(':').next())
        .filter(|s| !s.is_empty())
    {
        Some(dir) => Path::new(dir).join("labsync.db"),
        None => PathBuf::from("/var/lib/labsync/labsync.db"),
    }
}

/// One `labsync: error:` line (escaped: a cause may quote anyone's text).
pub(crate) fn fail(message: impl std::fmt::Display) {
    say(Say::Error, message);
}

/// Each problem of a configuration on its own error line.
pub(crate) fn fail_config(e: &crate::config::ConfigError) {
    for problem in e.problems() {
        fail(problem);
    }
}

/// Loads the config, printing its problems (one per line) on failure.
pub(crate) fn load_config(globals: &Globals) -> Result<Config, Exit> {
    let config = Config::load(&globals.config).map_err(|e| {
        fail_config(&e);
        Exit::Config
    })?;
    crate::logging::use_config_level(config.log_level.as_deref());
    crate::logging::use_config_format(config.log_format.as_deref());
    if let Some(w) = config.exposure_warning() {
        tracing::warn!("{w}");
    }
    for w in config.permission_warnings() {
        tracing::warn!("{w}");
    }
    Ok(config)
}

/// Reads the secrets of the plugins a command is about to sync: a missing
/// one is said (file:line of the key naming it) before the database is
/// opened, so that a refused run writes nothing.
pub(crate) fn check_secrets_of(
    config: &Config,
    wanted: impl Fn(&crate::config::Plugin) -> bool,
) -> Result<(), Exit> {
    match config.check_secrets_of(wanted) {
        Ok(warnings) => {
            // load_config said the exposure warning already.
            let exposure = config.exposure_warning();
            for w in warnings.iter().filter(|w| Some(*w) != exposure.as_ref()) {
                say(Say::Warning, w);
            }
            Ok(())
        }
        Err(e) => {
            fail_config(&e);
            Err(Exit::Config)
        }
    }
}

/// The async runtime a command runs its requests on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Exit> {
    runtime_with(Workers::PerCpu)
}

/// The same with `workers` threads; failing to start it is said in one line.
pub(crate) fn runtime_with(workers: Workers) -> Result<tokio::runtime::Runtime, Exit> {
    crate::runtime::runtime(workers).map_err(|e| {
        fail(format!("cannot start the async runtime: {e}"));
        Exit::Config
    })
}

/// The plugin named `name`, or a line listing the known ones.
pub(crate) fn known_plugin<'c>(
    config: &'c Config,
    name: &str,
) -> Result<&'c crate::config::Plugin, Exit> {
    config.plugin(name).ok_or_else(|| {
        let known: Vec<&str> = config.plugins.iter().map(|p| p.name.as_str()).collect();
        fail(format!(
            "unknown plugin '{name}' (known: {})",
            known.join(", ")
        ));
        Exit::Config
    })
}

/// Opens the database and brings its config rows in line with the file.
pub(crate) fn open_store(globals: &Globals, config: &Config) -> Result<Store, Exit> {
    let mut store = open_path(&globals.db_path(Some(config)))?;
    store.apply_config(config).map_err(|e| {
        fail(&e);
        Exit::Config
    })?;
    Ok(store)
}

/// The database `labsync plan` runs its dry cycle on: a copy in memory
/// with the config's rows loaded, so that nothing reaches the file (which
/// may be read-only). Without a database yet, it plans the first cycle.
pub(crate) fn open_plan_store(globals: &Globals, config: &Config) -> Result<Store, Exit> {
    open_snapshot(globals, config, |path| {
        say(
            Say::Warning,
            format!(
                "no database at {} yet: planning the first cycle (nothing is linked)",
                path.display()
            ),
        );
    })
}

/// A copy in memory of the database (an empty one when there is no file
/// yet, after `missing` is told) with the configuration's rows applied, as
/// the next cycle would see them. The file is neither created nor written.
pub(crate) fn open_snapshot(
    globals: &Globals,
    config: &Config,
    missing: impl FnOnce(&Path),
) -> Result<Store, Exit> {
    let path = globals.db_path(Some(config));
    let snapshot = if path.exists() {
        Store::snapshot(&path)
    } else {
        missing(&path);
        Store::open_in_memory()
    };
    let mut store = snapshot.map_err(|e| cannot_open(&path, e))?;
    store.apply_config(config).map_err(|e| {
        fail(&e);
        Exit::Config
    })?;
    Ok(store)
}

/// Opens the database for `labsync map`: when the config's rows cannot be
/// loaded, the tables are still shown and edited as the database holds
/// them (how else would an admin repair them). A command that only reads
/// (`list`, `export`) gets a copy in memory: the file is not written, and
/// may be read-only.
pub(crate) fn open_store_for_map(
    globals: &Globals,
    config: &Config,
    read_only: bool,
) -> Result<Store, Exit> {
    let path = globals.db_path(Some(config));
    let mut store = if read_only {
        Store::snapshot(&path).map_err(|e| cannot_open(&path, e))?
    } else {
        open_path(&path)?
    };
    if let Err(e) = store.apply_config(config) {
        say(Say::Warning, e);
        say(
            Say::Warning,
            "plugins.toml rows not loaded: the tables are as the database holds them",
        );
    }
    Ok(store)
}

/// Opens the database as it is (creating and migrating it when needed),
/// printing why it cannot be opened.
pub(crate) fn open_path(path: &Path) -> Result<Store, Exit> {
    Store::open(path).map_err(|e| cannot_open(path, e))
}

/// Opens a database that must exist already: a command that changes what
/// a cycle left (retry, map edits) has nothing to do on a new file, and a
/// mistyped --db must not leave one behind.
pub(crate) fn open_existing(path: &Path) -> Result<Store, Exit> {
    if !path.exists() {
        return Err(cannot_open(path, Store::missing(path)));
    }
    open_path(path)
}

/// Opens the database read-only, printing why it cannot be opened.
pub(crate) fn open_read_only(path: &Path) -> Result<Store, Exit> {
    Store::open_read_only(path).map_err(|e| cannot_open(path, e))
}

fn cannot_open(path: &Path, e: crate::store::StoreError) -> Exit {
    fail(&e);
    if path.starts_with("/var/lib/labsync") {
        say(
            Say::Hint,
            "give another database with --db PATH (or LABSYNC_DB)",
        );
    }
    Exit::Config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_path_precedence() {
        assert_eq!(
            state_directory_db(Some("/var/lib/labsync:/other")),
            PathBuf::from("/var/lib/labsync/labsync.db")
        );
        assert_eq!(
            state_directory_db(Some("/run/state")),
            PathBuf::from("/run/state/labsync.db")
        );
        assert_eq!(
            state_directory_db(None),
            PathBuf::from("/var/lib/labsync/labsync.db")
        );
        let g = Globals {
            config: "x".into(),
            db: Some("/tmp/a.db".into()),
        };
        assert_eq!(g.db_path(None), PathBuf::from("/tmp/a.db"));
    }
}
