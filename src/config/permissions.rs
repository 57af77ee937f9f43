//! Warnings about files others may read or change: a secret file readable
//! by the group or the world, a plugins.toml anyone may write (whoever can
//! write it chooses where labsync sends its tokens).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::secrets::SecretSource;
use super::{Config, Problem};

impl Config {
    /// One warning per file whose permissions expose a secret or the config.
    pub fn permission_warnings(&self) -> Vec<Problem> {
        let file = self.source.display().to_string();
        let mut out = Vec::new();
        if let Some(mode) = mode_of(&self.source).filter(|m| m & 0o002 != 0) {
            out.push(Problem {
                file: file.clone(),
                line: None,
                plugin: None,
                key: String::new(),
                message: format!(
                    "the file is writable by every user (mode {:o}): chmod o-w {}",
                    mode & 0o777,
                    self.source.display()
                ),
            });
        }
        let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
        let mut seen: Vec<PathBuf> = Vec::new();
        for p in &self.plugins {
            for (key, source) in [
                ("spira.api_key_file", &p.spira.api_key),
                ("gitlab.token_file", &p.gitlab.token),
            ] {
                let Some(path) = source
                    .file_path(credentials.as_deref())
                    .filter(|_| matches!(source, SecretSource::File(_)))
                else {
                    continue;
                };
                let Some(mode) = mode_of(&path).filter(|m| m & 0o044 != 0) else {
                    continue;
                };
                // Two plugins sharing a token file: one warning.
                if seen.contains(&path) {
                    continue;
                }
                out.push(Problem {
                    file: file.clone(),
                    line: None,
                    plugin: Some(p.name.clone()),
                    key: key.to_string(),
                    message: format!(
                        "{} is readable by other users (mode {:o}): chmod 600 it",
                        path.display(),
                        mode & 0o777
                    ),
                });
                seen.push(path);
            }
        }
        out
    }
}

/// The permission bits of a file; `None` when it cannot be read (reading
/// the secret reports that, with its own message).
fn mode_of(path: &Path) -> Option<u32> {
    std::fs::metadata(path).ok().map(|m| m.permissions().mode())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::Permissions;

    fn config(dir: &Path, token_file: &Path) -> PathBuf {
        let path = dir.join("plugins.toml");
        std::fs::write(
            &path,
            format!(
                r#"
[[plugins]]
name = "p"
[plugins.spira]
base_url = "https://spira.test"
login = "l"
api_key_env = "SPIRA_KEY"
[plugins.gitlab]
token_file = "{}"
[[plugins.projects]]
spira_project = 1
gitlab_project = "g/p"
"#,
                token_file.display()
            ),
        )
        .unwrap();
        path
    }

    #[test]
    fn a_readable_token_file_and_a_world_writable_config_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "glpat-x").unwrap();
        let path = config(dir.path(), &token);
        std::fs::set_permissions(&token, Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        let load = || Config::from_str(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(load().permission_warnings(), []);

        std::fs::set_permissions(&token, Permissions::from_mode(0o640)).unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o666)).unwrap();
        let lines: Vec<String> = load()
            .permission_warnings()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].contains("writable by every user (mode 666)"),
            "{lines:?}"
        );
        let expected = format!(
            "plugin 'p': gitlab.token_file: {} is readable by other users (mode 640)",
            token.display()
        );
        assert!(lines[1].contains(&expected), "{lines:?}");
        // The secret itself is never in the warning.
        assert!(!lines.concat().contains("glpat-x"));
    }
}
