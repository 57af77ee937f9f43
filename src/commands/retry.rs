//! `labsync retry [ID ...] [--all]`: queued errors become due now, parked
//! ones included; the next cycle tries them again.

use chrono::Utc;

use super::status::db_path;
use super::{Exit, Globals, fail, open_existing};

pub fn retry(globals: &Globals, ids: &[i64], all: bool) -> Exit {
    if ids.is_empty() != all {
        fail("give the ids of queued errors (see labsync status --errors), or --all, not both");
        return Exit::Usage;
    }
    let mut store = match db_path(globals).and_then(|path| open_existing(&path)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let chosen = if all { None } else { Some(ids) };
    match store.retry_errors(chosen, Utc::now()) {
        Ok(done) if done.is_empty() => {
            println!("nothing to retry: the error queue is empty");
            Exit::Ok
        }
        Ok(done) => {
            let list: Vec<String> = done.iter().map(i64::to_string).collect();
            println!(
                "{} queued error(s) due now, to be retried on the next cycle: {}",
                done.len(),
                list.join(", ")
            );
            Exit::Ok
        }
        Err(e) => {
            fail(e);
            Exit::Config
        }
    }
}
