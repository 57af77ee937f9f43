//! The `labsync` command: parses arguments and hands them to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use labsync::commands::{self, Exit, Globals, MapCommand, MapTable};
#[cfg(feature = "sim")]
use labsync::commands::{DemoArgs, SimArgs};
use labsync::logging::{self, LogFormat, Say};

/// labsync keeps Spira incidents and GitLab issues in two-way sync.
#[derive(Parser, Debug)]
#[command(name = "labsync", version, about, long_about = None, arg_required_else_help = true)]
struct Cli {
    /// Configuration file.
    #[arg(
        long,
        short,
        global = true,
        env = "LABSYNC_CONFIG",
        default_value = "/etc/labsync/plugins.toml"
    )]
    config: PathBuf,
    /// SQLite database [default: $STATE_DIRECTORY/labsync.db under systemd,
    /// else `database` from the config, else /var/lib/labsync/labsync.db].
    #[arg(long, global = true, env = "LABSYNC_DB")]
    db: Option<PathBuf>,
    /// Log level or filter (error, warn, info, debug, trace; or a RUST_LOG-style filter).
    #[arg(long, global = true, env = "LABSYNC_LOG_LEVEL")]
    log_level: Option<String>,
    /// Log format: human (default) or json.
    #[arg(long, global = true, env = "LABSYNC_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    /// Run one sync cycle of every active plugin and exit (same as `labsync sync`).
    #[arg(long)]
    sync_now: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the daemon: every enabled plugin on its schedule.
    Run,
    /// One sync cycle of each active plugin, then exit (0 done, 1 some items failed, 2 config or connection error).
    Sync {
        /// Only this plugin.
        #[arg(long)]
        plugin: Option<String>,
    },
    /// Check the configuration, and with a connection, both servers, tokens and mappings.
    Check {
        /// Validate the configuration file only; contact no server.
        #[arg(long)]
        offline: bool,
    },
    /// Per plugin and project: last run, watermarks, links and pending errors.
    Status {
        /// One JSON document, for scripts.
        #[arg(long)]
        json: bool,
        /// List the error queue instead: id, item, attempts, next try, cause.
        #[arg(long)]
        errors: bool,
        /// For monitoring: one line, and exit 0 healthy, 1 degraded (items
        /// failing or parked), 2 unhealthy (no successful cycle within
        /// --max-age, a project that could not sync, the daemon gone).
        #[arg(long, conflicts_with = "errors")]
        check: bool,
        /// With --check: how long without a successful cycle is still healthy.
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration, requires = "check")]
        max_age: std::time::Duration,
    },
    /// Accept that a plugin's servers or projects changed, or take over from an install that is gone.
    Rebind {
        /// The plugin whose servers and projects are now the intended ones.
        plugin: String,
    },
    /// Make queued errors due now (parked ones too); the next cycle retries them.
    Retry {
        /// Ids from `labsync status --errors`.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        ids: Vec<i64>,
        /// Every queued error.
        #[arg(long)]
        all: bool,
    },
    /// Print what the next cycle would write, and write nothing.
    Plan {
        #[arg(long)]
        plugin: Option<String>,
        /// One JSON document: per plugin and project, the writes (typed).
        #[arg(long)]
        json: bool,
    },
    /// List, add, remove, export and import the mapping tables.
    Map {
        #[command(subcommand)]
        command: MapCli,
    },
    /// Start simulators of Spira and GitLab on loopback, sync them, and show what moved.
    #[cfg(feature = "sim")]
    Demo(DemoArgs),
    /// Run the Spira and GitLab simulators alone, to try a configuration safely.
    #[cfg(feature = "sim")]
    Sim(SimArgs),
}

#[derive(Subcommand, Debug)]
enum MapCli {
    /// Every mapping table.
    List(ListArgs),
    /// Spira status ↔ GitLab state (opened | closed).
    Status(TableCli),
    /// Spira priority ↔ GitLab label (e.g. priority::high).
    Priority(TableCli),
    /// Spira user (login or id) ↔ GitLab username.
    User(TableCli),
    /// Spira release (version, name or id) ↔ GitLab milestone (title or id).
    Release(TableCli),
    /// Spira project ↔ GitLab project.
    Project {
        #[command(subcommand)]
        action: ProjectAction,
    },
    /// Write the mapping tables as TOML (to stdout or --output).
    Export {
        #[arg(long)]
        plugin: Option<String>,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Read mapping tables from a TOML file written by `export` (all or nothing).
    Import { file: PathBuf },
}

#[derive(Args, Debug)]
struct ListArgs {
    #[arg(long)]
    plugin: Option<String>,
    /// Spira project id.
    #[arg(long)]
    project: Option<i64>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct TableCli {
    #[command(subcommand)]
    action: TableAction,
}

#[derive(Subcommand, Debug)]
enum TableAction {
    List(ListArgs),
    Add {
        /// Plugin name (may be left out when there is only one).
        #[arg(long)]
        plugin: Option<String>,
        /// Spira project id (may be left out when the plugin has only one).
        #[arg(long)]
        project: Option<i64>,
        /// Spira value: a name, or an id as digits.
        #[arg(long)]
        spira: String,
        /// GitLab value.
        #[arg(long)]
        gitlab: String,
        /// The value used when the change comes from GitLab (status and priority).
        #[arg(long)]
        primary: bool,
    },
    Remove {
        #[arg(long)]
        plugin: Option<String>,
        #[arg(long)]
        project: Option<i64>,
        #[arg(long)]
        spira: String,
    },
}

#[derive(Subcommand, Debug)]
enum ProjectAction {
    List(ListArgs),
    Add {
        #[arg(long)]
        plugin: Option<String>,
        #[arg(long)]
        spira_project: i64,
        /// Numeric id or full path (group/project).
        #[arg(long)]
        gitlab_project: String,
        /// Add it switched off.
        #[arg(long)]
        inactive: bool,
    },
    Remove {
        #[arg(long)]
        plugin: Option<String>,
        #[arg(long)]
        spira_project: i64,
    },
}

/// `labsync demo` (only there when built with the simulators).
fn is_demo(command: &Option<Command>) -> bool {
    match command {
        #[cfg(feature = "sim")]
        Some(Command::Demo(_)) => true,
        _ => false,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo tells its own story on stdout; its logs only say what went wrong.
    let quiet = is_demo(&cli.command) && std::env::var_os("RUST_LOG").is_none();
    let level = cli
        .log_level
        .clone()
        .or_else(|| quiet.then(|| "warn".to_string()));
    let _guard = match logging::init(level.as_deref(), cli.log_format) {
        Ok(guard) => guard,
        Err(line) => {
            eprintln!("labsync: error: {line}");
            return ExitCode::from(Exit::Usage as u8);
        }
    };
    let globals = Globals {
        config: cli.config,
        db: cli.db,
    };
    let command = match (cli.sync_now, cli.command) {
        (true, None) | (true, Some(Command::Sync { plugin: None })) => {
            Command::Sync { plugin: None }
        }
        (true, Some(_)) => {
            logging::say(
                Say::Error,
                "--sync-now runs a cycle by itself; give it no other command",
            );
            return ExitCode::from(Exit::Usage as u8);
        }
        (false, Some(c)) => c,
        (false, None) => {
            logging::say(Say::Error, "no command given (see labsync --help)");
            return ExitCode::from(Exit::Usage as u8);
        }
    };
    if matches!(
        command,
        Command::Map { .. } | Command::Status { .. } | Command::Plan { .. }
    ) {
        end_quietly_on_closed_stdout();
    }
    let exit = match command {
        Command::Check { offline } => commands::check(&globals, offline),
        Command::Map { command } => commands::map(&globals, to_map(command)),
        Command::Run => commands::run(&globals),
        Command::Sync { plugin } => commands::sync(&globals, plugin.as_deref()),
        Command::Status {
            json,
            errors,
            check,
            max_age,
        } => commands::status(&globals, json, errors, check.then_some(max_age)),
        Command::Retry { ids, all } => commands::retry(&globals, &ids, all),
        Command::Rebind { plugin } => commands::rebind(&globals, &plugin),
        Command::Plan { plugin, json } => commands::plan(&globals, plugin.as_deref(), json),
        #[cfg(feature = "sim")]
        Command::Demo(args) => commands::demo(args),
        #[cfg(feature = "sim")]
        Command::Sim(args) => commands::sim(args),
    };
    ExitCode::from(exit as u8)
}

fn to_map(command: MapCli) -> MapCommand {
    let table = |kind, cli: TableCli| match cli.action {
        TableAction::List(l) => MapCommand::List {
            table: Some(kind),
            plugin: l.plugin,
            project: l.project,
            json: l.json,
        },
        TableAction::Add {
            plugin,
            project,
            spira,
            gitlab,
            primary,
        } => MapCommand::Add {
            table: kind,
            plugin,
            project,
            spira,
            gitlab,
            primary,
        },
        TableAction::Remove {
            plugin,
            project,
            spira,
        } => MapCommand::Remove {
            table: kind,
            plugin,
            project,
            spira,
        },
    };
    match command {
        MapCli::List(l) => MapCommand::List {
            table: None,
            plugin: l.plugin,
            project: l.project,
            json: l.json,
        },
        MapCli::Status(c) => table(MapTable::Status, c),
        MapCli::Priority(c) => table(MapTable::Priority, c),
        MapCli::User(c) => table(MapTable::User, c),
        MapCli::Release(c) => table(MapTable::Release, c),
        MapCli::Project { action } => match action {
            ProjectAction::List(l) => MapCommand::List {
                table: Some(MapTable::Project),
                plugin: l.plugin,
                project: l.project,
                json: l.json,
            },
            ProjectAction::Add {
                plugin,
                spira_project,
                gitlab_project,
                inactive,
            } => MapCommand::AddProject {
                plugin,
                spira_project,
                gitlab_project,
                active: !inactive,
            },
            ProjectAction::Remove {
                plugin,
                spira_project,
            } => MapCommand::RemoveProject {
                plugin,
                spira_project,
            },
        },
        MapCli::Export { plugin, output } => MapCommand::Export { plugin, output },
        MapCli::Import { file } => MapCommand::Import { file },
    }
}

/// `labsync map list | head` closes the pipe early: like other Unix tools,
/// a command that only reads and prints then ends at once and silently
/// (SIGPIPE), instead of panicking in `println!` (Rust ignores SIGPIPE by
/// default). Not for commands that write to Spira, GitLab or the database
/// while printing: they must not be cut short by a closed terminal pipe.
fn end_quietly_on_closed_stdout() {
    // SAFETY: restoring a signal's default disposition before any thread that
    // prints is started; no handler runs Rust code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
