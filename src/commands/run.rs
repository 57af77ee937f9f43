//! `labsync run`: the daemon (see [`crate::daemon`]).

use super::{Exit, Globals, fail, load_config, open_store};
use crate::daemon;

/// Runs until SIGTERM/SIGINT (exit 0); 2 when it cannot start.
pub fn run(globals: &Globals) -> Exit {
    let config = match load_config(globals) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if let Err(code) = super::check_secrets_of(&config, |p| p.enabled) {
        return code;
    }
    let store = match open_store(globals, &config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let ran = runtime.block_on(daemon::run(globals.config.clone(), config, store));
    // Requests abandoned by a stop may still hold a thread (a DNS lookup):
    // they must not keep the process from exiting.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match ran {
        Ok(()) => Exit::Ok,
        Err(e) => {
            fail(e);
            Exit::Config
        }
    }
}
