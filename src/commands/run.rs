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
    match runtime.block_on(daemon::run(globals.config.clone(), config, store)) {
        Ok(()) => Exit::Ok,
        Err(e) => {
            fail(e);
            Exit::Config
        }
    }
}
