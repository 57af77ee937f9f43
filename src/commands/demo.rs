//! `labsync demo`: simulators of Spira and GitLab on loopback, a kept
//! config and database, three cycles, and people editing both sides in
//! between — told step by step for a newcomer, and checked like a smoke
//! test (exit 1 when something did not arrive).

use std::path::{Path, PathBuf};

use super::sync::{print_failures, summary_table};
use super::{Exit, fail};
use crate::demo::DemoError;
use crate::demo::moved::{Moved, Snapshot, compare, plural};
use crate::demo::people;
use crate::demo::say::Say;
use crate::demo::stage::{PLUGIN, SPIRA_PROJECT, Stage, choose_dir};
use crate::runtime::Workers;
use crate::store::mappings::{Kind, Source};
use crate::sync::CycleReport;

#[derive(clap::Args, Debug, Clone)]
pub struct DemoArgs {
    /// Where to keep the demo's plugins.toml and labsync.db [default: a new
    /// labsync-demo-<time> directory in the system's temporary directory].
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Runs the demo; 0 when every step happened, 1 when a change did not
/// propagate, 2 when it could not be set up.
pub fn demo(args: DemoArgs) -> Exit {
    let say = Say::default();
    let dir = match choose_dir(args.dir.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            fail(e);
            return Exit::Config;
        }
    };
    let runtime = match super::runtime_with(Workers::Fixed(2)) {
        Ok(r) => r,
        Err(exit) => return exit,
    };
    match runtime.block_on(story(&dir, &say)) {
        Ok(true) => Exit::Ok,
        Ok(false) => Exit::ItemsFailed,
        Err(e) => {
            fail(e);
            Exit::Config
        }
    }
}

async fn story(dir: &Path, say: &Say) -> Result<bool, DemoError> {
    say.step(
        1,
        "Starting a simulated Spira and a simulated GitLab on 127.0.0.1…",
    );
    let mut stage = Stage::start(dir).await?;
    say.line(format!(
        "Spira:  {}  project {SPIRA_PROJECT} 'Web Shop': incidents, comments, releases, users",
        stage.spira.url()
    ));
    say.line(format!(
        "GitLab: {}  project {}: issues, notes, milestones, users",
        stage.gitlab.url(),
        stage.gitlab.project_path()
    ));
    say.line("Nothing leaves this machine; no account is needed.");
    let played = play(&mut stage, say).await;
    let (config, db) = (stage.config_path.clone(), stage.db_path.clone());
    stage.shutdown().await;
    let ok = played?;
    ending(say, &config, &db, ok);
    Ok(ok)
}

async fn play(stage: &mut Stage, say: &Say) -> Result<bool, DemoError> {
    say.step(2, "Writing a configuration for them");
    say.line(format!("config:   {}", stage.config_path.display()));
    say.line(format!("database: {}", stage.db_path.display()));
    say.line("Statuses and priorities are mapped, release 1.0 ↔ milestone 'Release 1.0',");
    say.line("users are paired by email, login or full name. The token and api key in it are the simulators'");
    say.line("throw-away ones.");

    say.step(3, "First cycle: every incident and issue is new to labsync");
    let before = Snapshot::take(stage).await?;
    let first = stage.cycle().await?;
    let after = Snapshot::take(stage).await?;
    let moved = compare(&before, &after);
    show_moved(say, &moved);
    show_users(stage, say)?;
    let mut ok = show_cycle(say, &first);
    ok &= expect(
        say,
        !moved.to_gitlab.is_empty() && !moved.to_spira.is_empty(),
        format!(
            "{} linked, each now on both sides",
            plural(after.link_count(), "pair")
        ),
    );

    say.step(4, "Five minutes later, people go on working");
    stage.advance(chrono::Duration::minutes(5));
    let acts = people::act(stage, say)?;
    stage.advance(chrono::Duration::minutes(5));
    say.line("Five more minutes pass; the second cycle runs:");
    let second = stage.cycle().await?;
    ok &= show_cycle(say, &second);
    ok &= people::check(stage, &acts, say);

    say.step(5, "Third cycle, with nothing changed since");
    stage.advance(chrono::Duration::minutes(5));
    let third = stage.cycle().await?;
    let writes = third.totals().writes();
    ok &= show_cycle(say, &third);
    ok &= expect(
        say,
        writes == 0,
        format!(
            "nothing to do: {} — the second cycle's own writes came back and were recognised, not echoed",
            plural(writes, "write")
        ),
    );
    Ok(ok)
}

fn show_moved(say: &Say, moved: &Moved) {
    let groups = [
        ("Incidents that became GitLab issues:", &moved.to_gitlab),
        ("Issues that became Spira incidents:", &moved.to_spira),
        ("Already on both sides:", &moved.matched),
        ("Comments copied:", &moved.comments),
        ("Releases and milestones created:", &moved.releases),
    ];
    for (title, lines) in groups {
        if lines.is_empty() {
            continue;
        }
        say.line(title);
        for l in lines {
            say.line(format!("  {l}"));
        }
    }
    let mut titles: Vec<&str> = moved
        .to_gitlab
        .iter()
        .chain(&moved.to_spira)
        .filter_map(|l| l.split('\'').nth(1))
        .collect();
    titles.sort_unstable();
    if titles.windows(2).any(|w| w[0] == w[1]) {
        say.line("The two sides were filled separately, so a defect filed on both appears twice:");
        say.line("labsync links items by its own markers, never by a similar title.");
    }
    if moved.releases.is_empty() {
        say.line("Releases and milestones: each release already had its milestone; none created.");
    }
}

fn show_users(stage: &Stage, say: &Say) -> Result<(), DemoError> {
    let rows = stage
        .store
        .mappings(Kind::User, Some(PLUGIN), Some(i64::from(SPIRA_PROJECT)))
        .map_err(|e| DemoError::Setup(e.to_string()))?;
    let auto: Vec<String> = rows
        .iter()
        .filter(|r| r.source == Source::Auto)
        .map(|r| format!("{} ↔ {}", r.tm_value, r.tracker_value))
        .collect();
    if !auto.is_empty() {
        say.line(format!("Users mapped automatically: {}", auto.join(", ")));
    }
    Ok(())
}

/// The summary table and any failure; false if the cycle had one.
fn show_cycle(say: &Say, report: &CycleReport) -> bool {
    say.blank();
    say.block(&summary_table(std::slice::from_ref(report)));
    print_failures(std::slice::from_ref(report));
    let failed = report.fatal() || report.failed_items() > 0;
    if failed {
        say.missed(format!(
            "the cycle did not finish cleanly ({})",
            report.result()
        ));
    }
    !failed
}

fn expect(say: &Say, ok: bool, line: String) -> bool {
    if ok {
        say.ok(line);
    } else {
        say.missed(line);
    }
    ok
}

fn ending(say: &Say, config: &Path, db: &Path, ok: bool) {
    let (config, db) = (shell(config), shell(db));
    say.step(6, "Where to look next");
    say.line("The simulators have stopped: the addresses in the config no longer answer,");
    say.line("but the database keeps the links, mappings and the log of the three cycles.");
    say.line(format!("config:   {config}"));
    say.line(format!("database: {db}"));
    say.line(format!("labsync status --db {db} --config {config}"));
    say.line(format!("labsync map list --db {db} --config {config}"));
    say.line("labsync sim      # the simulators again, on new ports with a new token");
    println!();
    if ok {
        println!("Demo finished: every change arrived on the other side.");
    } else {
        println!("Demo finished, but something did not propagate: see NOT DONE above.");
    }
}

/// A path as it can be pasted into a shell.
fn shell(path: &Path) -> String {
    let s = path.display().to_string();
    let plain = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c));
    if plain {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_only_when_needed() {
        assert_eq!(
            shell(Path::new("/tmp/a-1/labsync.db")),
            "/tmp/a-1/labsync.db"
        );
        assert_eq!(shell(Path::new("/tmp/my dir/x")), "'/tmp/my dir/x'");
        assert_eq!(shell(Path::new("/tmp/it's")), r"'/tmp/it'\''s'");
    }
}
