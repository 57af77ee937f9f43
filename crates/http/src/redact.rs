//! Credentials in URLs: found (so that the configuration can refuse them)
//! and scrubbed (so that no error or log line can carry one, whatever put it
//! there — reqwest's errors quote the URL they were sending to).
//!
//! A credential is the userinfo of an authority (`user:token@host`) or a
//! query parameter whose name says it is one (`private_token`, `api-key`,
//! `username`, …). Scrubbing keeps the rest of the URL, which is what an
//! operator needs to see.

use std::borrow::Cow;

/// What replaces a credential.
pub const REDACTED: &str = "***";

/// Query parameter names (lower case, `-` and `_` removed) that carry a
/// credential or half of one: GitLab's `private_token`, `access_token` and
/// `job_token`; Spira's `username` and `api-key`; and the usual others.
const EXACT: &[&str] = &[
    "key",
    "pass",
    "pwd",
    "user",
    "username",
    "login",
    "sig",
    "code",
    "auth",
    "authorization",
];
/// Any name containing one of these is a credential too.
const CONTAINS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "signature",
    "credential",
    "session",
];

/// True when a query parameter of this name would carry a credential.
fn is_credential_name(name: &str) -> bool {
    let decoded: String = url::form_urlencoded::parse(format!("{name}=").as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_else(|| name.to_string());
    let norm: String = decoded
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    EXACT.contains(&norm.as_str()) || CONTAINS.iter().any(|c| norm.contains(c))
}

/// The credentials a URL carries, by name (never by value): `userinfo` for
/// `user:secret@host`, else each credential-like query parameter as written.
pub fn credentials_in(url: &str) -> Vec<String> {
    let parts = Parts::of(url.trim());
    let mut found = Vec::new();
    if parts.userinfo.is_some() {
        found.push("userinfo (user:password@ before the host)".to_string());
    }
    if let Some(query) = parts.query {
        for pair in query.split('&') {
            let name = pair.split('=').next().unwrap_or_default();
            if !name.is_empty() && is_credential_name(name) {
                found.push(format!("query parameter '{name}'"));
            }
        }
    }
    found
}

/// The URL with its userinfo and credential-like query values replaced by
/// [`REDACTED`]; anything else is left as it was.
pub fn scrub_url(url: &str) -> Cow<'_, str> {
    let parts = Parts::of(url);
    let query_has_secret = parts.query.is_some_and(|q| {
        q.split('&')
            .any(|p| is_credential_name(p.split('=').next().unwrap_or_default()))
    });
    if parts.userinfo.is_none() && !query_has_secret {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len());
    out.push_str(parts.before_authority);
    if parts.userinfo.is_some() {
        out.push_str(REDACTED);
        out.push('@');
    }
    out.push_str(parts.host_and_path);
    if let Some(query) = parts.query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if is_credential_name(name) => format!("{name}={REDACTED}"),
                _ => pair.to_string(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    out.push_str(parts.fragment);
    Cow::Owned(out)
}

/// Every URL in a free text (an error message, a log field) scrubbed.
pub fn scrub_urls(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(sep) = rest.find("://") {
        // The scheme runs back from "://" over scheme characters.
        let start = rest[..sep]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .last()
            .map_or(sep, |(i, _)| i);
        let end = rest[sep..]
            .find(|c: char| {
                // A backslash ends it too: in JSON text it starts an escape.
                c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | ')' | '\\')
            })
            .map_or(rest.len(), |i| sep + i);
        out.push_str(&rest[..start]);
        out.push_str(&scrub_url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// A URL cut where credentials may sit, without needing it to parse.
struct Parts<'a> {
    /// `scheme://`, or the empty string.
    before_authority: &'a str,
    userinfo: Option<&'a str>,
    host_and_path: &'a str,
    query: Option<&'a str>,
    /// `#…`, or the empty string.
    fragment: &'a str,
}

impl<'a> Parts<'a> {
    fn of(url: &'a str) -> Parts<'a> {
        let (url, fragment) = match url.find('#') {
            Some(i) => url.split_at(i),
            None => (url, ""),
        };
        let (url, query) = match url.split_once('?') {
            Some((u, q)) => (u, Some(q)),
            None => (url, None),
        };
        let authority_start = url.find("://").map_or(0, |i| i + 3);
        let (before_authority, rest) = url.split_at(authority_start);
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let (userinfo, host_and_path) = match rest[..authority_end].rfind('@') {
            Some(at) if authority_start > 0 => (Some(&rest[..at]), &rest[at + 1..]),
            _ => (None, rest),
        };
        Parts {
            before_authority,
            userinfo,
            host_and_path,
            query,
            fragment,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_named_never_shown() {
        let found = credentials_in("https://gitlab.example.com/?private_token=glpat-SECRET");
        assert_eq!(found, vec!["query parameter 'private_token'"]);
        let found = credentials_in("https://bot:glpat-SECRET@gitlab.example.com");
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("userinfo"));
        let found = credentials_in("https://spira.example.com/?username=bot&api-key=%7BK%7D&x=1");
        assert_eq!(
            found,
            vec!["query parameter 'username'", "query parameter 'api-key'"]
        );
        for name in [
            "access_token",
            "job_token",
            "ApiKey",
            "api_key",
            "password",
            "private%5Ftoken",
        ] {
            assert_eq!(
                credentials_in(&format!("https://h/?{name}=v")).len(),
                1,
                "{name}"
            );
        }
        assert!(credentials_in("https://gitlab.example.com/sub/path").is_empty());
        assert!(
            credentials_in("https://h/?page=2&author_id=3&assignee_username=al").is_empty(),
            "GitLab's own filters are not credentials"
        );
    }

    #[test]
    fn scrubbing_keeps_everything_but_the_credentials() {
        assert_eq!(
            scrub_url(
                "https://bot:glpat-SECRET@gitlab.example.com/api/v4?page=2&private_token=glpat-SECRET#x"
            ),
            "https://***@gitlab.example.com/api/v4?page=2&private_token=***#x"
        );
        assert_eq!(
            scrub_url("https://h/a?b=1"),
            "https://h/a?b=1",
            "nothing to scrub"
        );
        // An e-mail address in a path is not userinfo.
        assert_eq!(scrub_url("https://h/u/a@b.c"), "https://h/u/a@b.c");
    }

    #[test]
    fn urls_in_a_message_are_scrubbed_where_they_stand() {
        let text = "error sending request for url (https://h.example/api/v4/projects?private_token=glpat-SECRET): connection refused; see 'http://u:pw@other/x'";
        let scrubbed = scrub_urls(text);
        assert!(
            !scrubbed.contains("SECRET") && !scrubbed.contains("pw@"),
            "{scrubbed}"
        );
        assert_eq!(
            scrubbed,
            "error sending request for url (https://h.example/api/v4/projects?private_token=***): connection refused; see 'http://***@other/x'"
        );
        assert_eq!(scrub_urls("no url here"), "no url here");
    }

    #[test]
    fn json_text_stays_json() {
        let line = serde_json::json!({
            "message": "GET https://h/x?private_token=s3cr\"et&page=2 failed",
            "url": "https://u:pw@h/",
        })
        .to_string();
        let scrubbed = scrub_urls(&line);
        let v: serde_json::Value = serde_json::from_str(&scrubbed).unwrap();
        assert!(
            !scrubbed.contains("s3cr") && !scrubbed.contains("pw@"),
            "{scrubbed}"
        );
        assert_eq!(v["url"], "https://***@h/");
    }
}
