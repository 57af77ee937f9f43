//! A configured URL must not carry a credential: it would be logged, kept in
//! shell histories and proxy logs, and sent where headers are not. Refused
//! with the credential's name, never its value.

use crate::redact::credentials_in;

/// The one-line refusal for a URL that carries credentials, or `None`.
pub(super) fn refusal(url: &str) -> Option<String> {
    let found = credentials_in(url);
    (!found.is_empty()).then(|| {
        format!(
            "the URL carries a credential ({}): remove it (value not shown) and give the secret as token/api_key, its _file or its _env",
            found.join(", ")
        )
    })
}
