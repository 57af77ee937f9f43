//! Reads plugins.toml and the `LABSYNC_*` overrides into [`ConfigFile`],
//! reporting every problem of shape (unknown key, wrong type, missing key),
//! not only the first: serde stops at the first, so each one found is
//! patched over (the key removed, or a stand-in of the expected type put
//! in its place) and the file read again.

use std::collections::BTreeMap;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Value};

use super::ConfigFile;

/// Rounds of patching at most: a file with more problems than this gets
/// the first ones reported, which is enough to start fixing it.
const MAX_ROUNDS: usize = 50;

/// An override of a top-level key by an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Override {
    /// Key in the file, e.g. `http_timeout`.
    pub key: String,
    /// The variable, e.g. `LABSYNC_HTTP_TIMEOUT`.
    pub variable: String,
    pub value: String,
}

/// The `LABSYNC_*` variables that override keys of the file; `skip` are
/// the ones that are command-line options instead. Values stay strings
/// (`LABSYNC_HTTP_TIMEOUT=45` is a duration without a unit, not a number).
pub(crate) fn overrides(
    vars: impl Iterator<Item = (String, String)>,
    skip: &[&str],
) -> Vec<Override> {
    let mut out: Vec<Override> = vars
        .filter_map(|(variable, value)| {
            let name = variable.strip_prefix("LABSYNC_")?;
            (!name.is_empty() && !skip.contains(&name)).then(|| Override {
                key: name.to_ascii_lowercase(),
                variable: variable.clone(),
                value,
            })
        })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// The file merged with the overrides, or every problem of shape as
/// figment reports it (its path says where).
pub(crate) fn read(text: &str, overrides: &[Override]) -> Result<ConfigFile, Vec<figment::Error>> {
    let mut env = BTreeMap::new();
    for o in overrides {
        env.insert(o.key.clone(), o.value.clone());
    }
    let merged: Value = Figment::from(Toml::string(text))
        .merge(Serialized::globals(env))
        .extract()
        .map_err(|e| vec![e])?;
    let first = match extract(&merged) {
        Ok(file) => return Ok(file),
        Err(e) => *e,
    };
    let mut value = merged;
    let mut found = vec![first];
    for _ in 0..MAX_ROUNDS {
        let Some(last) = found.last() else { break };
        let path = error_path(last);
        // A stand-in that does not fit keeps failing at one place: stop.
        let again = found.iter().filter(|e| error_path(e) == path).count();
        if again > 3 || patch(&mut value, last).is_none() {
            break;
        }
        match extract(&value) {
            Ok(_) => break,
            Err(e) => found.push(*e),
        }
    }
    // What goes wrong at or inside a stand-in is ours, not the admin's.
    let mut out: Vec<figment::Error> = Vec::new();
    let mut stand_ins: Vec<Vec<String>> = Vec::new();
    for e in found {
        let path = error_path(&e);
        if !stand_ins.iter().any(|p| path.starts_with(p)) {
            out.push(e);
        }
        stand_ins.push(path);
    }
    Err(out)
}

fn extract(value: &Value) -> Result<ConfigFile, Box<figment::Error>> {
    Figment::from(Serialized::defaults(value))
        .extract()
        .map_err(Box::new)
}

/// The path of the key an error is about (an unknown key's own name included).
fn error_path(e: &figment::Error) -> Vec<String> {
    let mut path = e.path.clone();
    match &e.kind {
        figment::error::Kind::UnknownField(field, _) if path.last() != Some(field) => {
            path.push(field.clone())
        }
        figment::error::Kind::MissingField(field) => path.push(field.to_string()),
        _ => {}
    }
    path
}

/// Removes or replaces the value an error is about; `None` if it cannot.
fn patch(value: &mut Value, e: &figment::Error) -> Option<()> {
    use figment::error::Kind;
    let path = error_path(e);
    let (key, parent) = path.split_last()?;
    let parent = at_mut(value, parent)?;
    let stand_in = match &e.kind {
        Kind::UnknownField(..) => {
            match parent {
                Value::Dict(_, d) => d.remove(key),
                _ => None,
            }?;
            return Some(());
        }
        Kind::InvalidType(_, expected) => stand_in(expected),
        // A missing key, an untagged enum or a custom message: try a string;
        // a wrong guess comes back as an invalid type, handled above.
        _ => Value::from(String::new()),
    };
    match parent {
        Value::Dict(_, d) => {
            d.insert(key.clone(), stand_in);
        }
        Value::Array(_, a) => *a.get_mut(key.parse::<usize>().ok()?)? = stand_in,
        _ => return None,
    }
    Some(())
}

/// A value of the type serde said it expected ("a string", "i64", "a boolean", ...).
fn stand_in(expected: &str) -> Value {
    let e = expected.to_ascii_lowercase();
    if e.contains("bool") {
        Value::from(false)
    } else if e.contains("sequence") || e.contains("array") {
        Value::from(Vec::<Value>::new())
    } else if ["i64", "u64", "i32", "u32", "integer", "number"]
        .iter()
        .any(|n| e.contains(n))
    {
        Value::from(1i64)
    } else if e.contains("struct") || e.contains("map") || e.contains("dict") {
        Value::from(Dict::new())
    } else {
        Value::from(String::new())
    }
}

fn at_mut<'v>(value: &'v mut Value, path: &[String]) -> Option<&'v mut Value> {
    let mut node = value;
    for seg in path {
        node = match node {
            Value::Dict(_, d) => d.get_mut(seg)?,
            Value::Array(_, a) => a.get_mut(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paths of the problems found, sorted (they come in key order).
    fn paths(text: &str) -> Vec<String> {
        let mut out: Vec<String> = match read(text, &[]) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(|e| error_path(e).join(".")).collect(),
        };
        out.sort();
        out
    }

    const PLUGIN: &str = "[[plugins]]\nname = \"a\"\n[plugins.spira]\nbase_url = \"https://s\"\nlogin = \"l\"\n[plugins.gitlab]\n";

    #[test]
    fn every_type_error_is_reported_once() {
        let text = format!(
            "http_timeout = 5\n{PLUGIN}token = 7\nallow_http = \"yes\"\n[[plugins.projects]]\nspira_project = \"one\"\ngitlab_project = \"g\"\nactive = 3\n"
        );
        assert_eq!(
            paths(&text),
            [
                "http_timeout",
                "plugins.0.gitlab.allow_http",
                "plugins.0.gitlab.token",
                "plugins.0.projects.0.active",
                "plugins.0.projects.0.spira_project",
            ]
        );
    }

    #[test]
    fn unknown_and_missing_keys_are_reported_with_the_rest() {
        let text =
            format!("{PLUGIN}tocken = \"x\"\nallow_http = 1\n").replace("login = \"l\"\n", "");
        assert_eq!(
            paths(&text),
            [
                "plugins.0.gitlab.allow_http",
                "plugins.0.gitlab.tocken",
                "plugins.0.spira.login",
            ]
        );
    }

    #[test]
    fn a_missing_table_is_one_problem_not_one_per_key_inside() {
        let text = "[[plugins]]\nname = \"a\"\n[plugins.gitlab]\nenabled = 1\n";
        assert_eq!(paths(text), ["plugins.0.gitlab.enabled", "plugins.0.spira"]);
    }

    #[test]
    fn overrides_are_strings_and_skip_the_command_line_ones() {
        let vars = [
            ("LABSYNC_HTTP_TIMEOUT", "45"),
            ("LABSYNC_LEASE_WAIT", "5m"),
            ("PATH", "/bin"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let got = overrides(vars.into_iter(), &["LEASE_WAIT"]);
        assert_eq!(
            got,
            [Override {
                key: "http_timeout".into(),
                variable: "LABSYNC_HTTP_TIMEOUT".into(),
                value: "45".into()
            }]
        );
        let file = read("", &got).unwrap();
        assert_eq!(file.http_timeout.as_deref(), Some("45"));
    }
}
