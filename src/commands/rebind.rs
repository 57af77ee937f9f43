//! `labsync rebind PLUGIN`: says that the servers or projects a plugin now
//! names are the intended ones for this database (a moved server, a renamed
//! project, a database restored or replaced), or that this database takes
//! over from an install that is gone.

use super::sync::http_settings;
use super::{Exit, Globals, fail, load_config, open_store};
use crate::sync::identity::rebind as rebind_plugin;

pub fn rebind(globals: &Globals, name: &str) -> Exit {
    let config = match load_config(globals) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let plugin = match super::known_plugin(&config, name) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if let Err(code) = super::check_secrets_of(&config, |p| p.name == name) {
        return code;
    }
    let mut store = match open_store(globals, &config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let gitlab = match crate::connectors::connect_gitlab(plugin, &http_settings(&config)) {
        Ok(c) => c,
        Err(e) => {
            fail(e);
            return Exit::Config;
        }
    };
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    match runtime.block_on(rebind_plugin(&plugin.settings(), &gitlab, &mut store)) {
        Ok(done) => {
            for b in &done.forgotten {
                println!("forgot: plugin '{name}' was bound to {}", b.describe());
            }
            if let Some(id) = &done.adopted {
                println!(
                    "this database is now install {id}, which the GitLab project names: stop any other labsync still using that install"
                );
            }
            println!("the next cycle binds plugin '{name}' to the servers and projects configured");
            Exit::Ok
        }
        Err(e) => {
            fail(e);
            Exit::Config
        }
    }
}
