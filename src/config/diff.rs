//! What a reload changed, one line each, for the log: plugins added and
//! removed, and per plugin or globally the keys whose value changed. A
//! secret is said to have changed, never shown.

use std::fmt::Debug;

use super::{Config, Plugin};

/// The changes from `old` to `new`; empty when nothing changed.
pub fn changes(old: &Config, new: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let mut option = |key: &str, a: String, b: String| note(&mut out, key, a, b);
    option(
        "http_timeout",
        humantime::format_duration(old.http_timeout).to_string(),
        humantime::format_duration(new.http_timeout).to_string(),
    );
    option("database", shown(&old.database), shown(&new.database));
    option("log_level", shown(&old.log_level), shown(&new.log_level));
    option("log_format", shown(&old.log_format), shown(&new.log_format));
    for p in &old.plugins {
        if new.plugin(&p.name).is_none() {
            out.push(format!("plugin '{}' removed", p.name));
        }
    }
    for p in &new.plugins {
        match old.plugin(&p.name) {
            None => out.push(format!("plugin '{}' added", p.name)),
            Some(o) => {
                let keys = plugin_changes(o, p);
                if !keys.is_empty() {
                    out.push(format!("plugin '{}': {}", p.name, keys.join("; ")));
                }
            }
        }
    }
    out
}

/// "key old → new" when they differ.
fn note(out: &mut Vec<String>, key: &str, old: String, new: String) {
    if old != new {
        out.push(format!("{key} {old} → {new}"));
    }
}

fn shown<T: Debug>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map_or_else(|| "unset".to_string(), |v| format!("{v:?}"))
}

/// The keys of one plugin that changed, with old → new values (secrets:
/// only that they changed).
fn plugin_changes(a: &Plugin, b: &Plugin) -> Vec<String> {
    let mut keys = Vec::new();
    let mut value = |key: &str, x: String, y: String| note(&mut keys, key, x, y);
    value(
        "caption",
        format!("{:?}", a.caption),
        format!("{:?}", b.caption),
    );
    value("enabled", a.enabled.to_string(), b.enabled.to_string());
    value("schedule", a.schedule.to_string(), b.schedule.to_string());
    value("time_offset", dur(a.time_offset), dur(b.time_offset));
    value(
        "conflict",
        a.conflict.as_str().into(),
        b.conflict.as_str().into(),
    );
    value(
        "direction",
        a.direction.as_str().into(),
        b.direction.as_str().into(),
    );
    value(
        "auto_map_users",
        a.auto_map_users.to_string(),
        b.auto_map_users.to_string(),
    );
    value("sync_since", shown(&a.sync_since), shown(&b.sync_since));
    value(
        "comment_sweep",
        a.comment_sweep.map_or("off".into(), dur),
        b.comment_sweep.map_or("off".into(), dur),
    );
    value(
        "concurrency",
        a.concurrency.to_string(),
        b.concurrency.to_string(),
    );
    value(
        "share_projects",
        a.share_projects.to_string(),
        b.share_projects.to_string(),
    );
    value(
        "gitlab_issue_types",
        a.gitlab_issue_types.join(","),
        b.gitlab_issue_types.join(","),
    );
    value(
        "spira.base_url",
        a.spira.base_url.to_string(),
        b.spira.base_url.to_string(),
    );
    value("spira.login", a.spira.login.clone(), b.spira.login.clone());
    value(
        "spira.ca_file",
        shown(&a.spira.ca_file),
        shown(&b.spira.ca_file),
    );
    value(
        "spira.release_type",
        a.spira.release_type_id.to_string(),
        b.spira.release_type_id.to_string(),
    );
    value(
        "spira.release_status",
        a.spira.release_status_id.to_string(),
        b.spira.release_status_id.to_string(),
    );
    value(
        "gitlab.base_url",
        a.gitlab.base_url.to_string(),
        b.gitlab.base_url.to_string(),
    );
    value(
        "gitlab.ca_file",
        shown(&a.gitlab.ca_file),
        shown(&b.gitlab.ca_file),
    );
    if a.description != b.description {
        keys.push("description changed".into());
    }
    for (key, x, y) in [
        ("spira.api_key", &a.spira.api_key, &b.spira.api_key),
        ("gitlab.token", &a.gitlab.token, &b.gitlab.token),
    ] {
        if x != y {
            keys.push(format!("{key} changed (value not shown)"));
        }
    }
    keys.extend(project_changes(a, b));
    keys
}

fn dur(d: std::time::Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// Project mappings added, removed, or whose tables changed.
fn project_changes(a: &Plugin, b: &Plugin) -> Vec<String> {
    let mut out = Vec::new();
    let find = |p: &Plugin, id: i64| p.projects.iter().find(|m| m.spira_project == id).cloned();
    for m in &a.projects {
        if find(b, m.spira_project).is_none() {
            out.push(format!("project PR:{} removed", m.spira_project));
        }
    }
    for m in &b.projects {
        let Some(o) = find(a, m.spira_project) else {
            out.push(format!(
                "project PR:{} ↔ {} added",
                m.spira_project, m.gitlab_project
            ));
            continue;
        };
        let mut what = Vec::new();
        if o.gitlab_project != m.gitlab_project {
            what.push(format!(
                "gitlab_project {} → {}",
                o.gitlab_project, m.gitlab_project
            ));
        }
        if o.active != m.active {
            what.push(format!("active {} → {}", o.active, m.active));
        }
        for (table, x, y) in [
            ("statuses", &o.statuses, &m.statuses),
            ("priorities", &o.priorities, &m.priorities),
            ("users", &o.users, &m.users),
            ("releases", &o.releases, &m.releases),
        ] {
            if x != y {
                what.push(format!("{table} {} → {} row(s)", x.len(), y.len()));
            }
        }
        if !what.is_empty() {
            out.push(format!(
                "project PR:{}: {}",
                m.spira_project,
                what.join(", ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const BASE: &str = r#"
http_timeout = "30s"
[[plugins]]
name = "a"
schedule = "5m"
[plugins.spira]
base_url = "https://spira.example.com"
login = "bot"
api_key = "OLD-KEY-123"
[plugins.gitlab]
token_env = "T"
[[plugins.projects]]
spira_project = 1
gitlab_project = "g/p"
statuses = [ { spira = "New", gitlab = "opened", primary = true }, { spira = "Closed", gitlab = "closed", primary = true } ]
priorities = [ { spira = "1 - Critical", gitlab = "priority::critical" } ]
"#;

    fn load(text: &str) -> Config {
        Config::from_str(Path::new("plugins.toml"), text).unwrap()
    }

    #[test]
    fn a_reload_names_what_changed_but_no_secret() {
        let old = load(BASE);
        assert!(changes(&old, &load(BASE)).is_empty(), "nothing changed");
        let text = BASE
            .replace("\"30s\"", "\"10s\"")
            .replace("schedule = \"5m\"", "schedule = \"10m\"")
            .replace("OLD-KEY-123", "NEW-KEY-456")
            .replace(
                "priorities = [ { spira = \"1 - Critical\", gitlab = \"priority::critical\" } ]",
                "",
            )
            + r#"
[[plugins]]
name = "b"
[plugins.spira]
base_url = "https://spira.example.com"
login = "bot"
api_key_env = "K"
[plugins.gitlab]
token_env = "T"
"#;
        let lines = changes(&old, &load(&text));
        let all = lines.join("\n");
        assert_eq!(lines.len(), 3, "{all}");
        assert_eq!(lines[0], "http_timeout 30s → 10s");
        assert!(
            lines[1].starts_with("plugin 'a': schedule every 5m → every 10m"),
            "{all}"
        );
        assert!(
            lines[1].contains("spira.api_key changed (value not shown)"),
            "{all}"
        );
        assert!(
            lines[1].contains("project PR:1: priorities 1 → 0 row(s)"),
            "{all}"
        );
        assert_eq!(lines[2], "plugin 'b' added");
        assert!(!all.contains("KEY-"), "no secret value: {all}");
    }
}
