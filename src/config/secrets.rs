//! Where a token or api key comes from: the file, a file of its own, an
//! environment variable, or a systemd credential.

use std::path::{Path, PathBuf};

use crate::secret::Secret;

/// One of the three ways to give a secret; validation made sure exactly one is set.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Written in plugins.toml itself (discouraged: the file must then be private).
    Inline(Secret),
    /// A file holding the secret. A bare name (no `/`) is a systemd credential
    /// when $CREDENTIALS_DIRECTORY is set.
    File(String),
    /// An environment variable holding the secret.
    Env(String),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Inline(_) => f.write_str("Inline([redacted])"),
            SecretSource::File(p) => write!(f, "File({p:?})"),
            SecretSource::Env(v) => write!(f, "Env({v:?})"),
        }
    }
}

impl SecretSource {
    /// Reads the secret. The error says where it looked, never what it found.
    pub fn resolve(&self) -> Result<Secret, String> {
        let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
        self.resolve_with(credentials.as_deref(), |name| std::env::var(name).ok())
    }

    pub(crate) fn resolve_with(
        &self,
        credentials_dir: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Secret, String> {
        let value = match self {
            SecretSource::Inline(s) => return Ok(s.clone()),
            SecretSource::Env(name) => {
                env(name).ok_or_else(|| format!("environment variable {name} is not set"))?
            }
            SecretSource::File(name) => {
                let path = self
                    .file_path(credentials_dir)
                    .unwrap_or_else(|| PathBuf::from(name));
                super::read_capped(&path, MAX_SECRET_BYTES)
                    .map_err(|reason| format!("cannot read {}: {reason}", path.display()))?
            }
        };
        let value = value.trim();
        if value.is_empty() {
            return Err(format!("{} is empty", self.describe()));
        }
        Ok(Secret::new(value))
    }

    /// The file a `File` source reads, credentials directory applied.
    pub fn file_path(&self, credentials_dir: Option<&Path>) -> Option<PathBuf> {
        match self {
            SecretSource::File(name) if !name.contains('/') => Some(match credentials_dir {
                Some(dir) => dir.join(name),
                None => PathBuf::from(name),
            }),
            SecretSource::File(name) => Some(PathBuf::from(name)),
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            SecretSource::Inline(_) => "the inline value".to_string(),
            SecretSource::File(p) => format!("file {p}"),
            SecretSource::Env(v) => format!("environment variable {v}"),
        }
    }
}

/// A token or api key is a few dozen bytes; a file far larger is not one.
const MAX_SECRET_BYTES: u64 = 64 * 1024;

pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::IsADirectory => "is a directory, not a file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_name_reads_systemd_credential() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("gitlab-token"), "glpat-xyz\n").unwrap();
        let src = SecretSource::File("gitlab-token".into());
        let secret = src.resolve_with(Some(dir.path()), |_| None).unwrap();
        assert_eq!(secret.expose(), "glpat-xyz");
    }

    #[test]
    fn missing_env_names_the_variable_not_a_value() {
        let src = SecretSource::Env("GITLAB_TOKEN".into());
        let err = src.resolve_with(None, |_| None).unwrap_err();
        assert_eq!(err, "environment variable GITLAB_TOKEN is not set");
    }

    #[test]
    fn a_directory_or_a_device_is_refused_in_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let src = SecretSource::File(dir.path().display().to_string());
        let err = src.resolve_with(None, |_| None).unwrap_err();
        assert!(err.ends_with(": is a directory, not a file"), "{err}");
        let src = SecretSource::File("/dev/zero".into());
        let err = src.resolve_with(None, |_| None).unwrap_err();
        assert_eq!(err, "cannot read /dev/zero: is a device, not a file");
    }

    #[test]
    fn empty_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "  \n").unwrap();
        let src = SecretSource::File(path.display().to_string());
        let err = src.resolve_with(None, |_| None).unwrap_err();
        assert!(err.ends_with("is empty"), "{err}");
    }
}
