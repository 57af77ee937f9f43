//! Reading GitLab's answers: bodies into types, statuses into typed errors,
//! and the next page of a list.

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::GitLabError;
use labsync_http::FullResponse;
use labsync_http::secret::Secret;

/// The next page: `X-Next-Page`, else `Link: rel="next"` (some proxies drop
/// the X- headers), else none.
pub(super) fn next_page(headers: &HeaderMap, page: u64) -> Option<u64> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(next) = header("x-next-page") {
        return next.trim().parse().ok().filter(|n| *n > page);
    }
    let link = header("link")?;
    let next_url = link
        .split(',')
        .find(|part| part.contains("rel=\"next\""))?
        .split(';')
        .next()?
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let url = url::Url::parse(next_url).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok())
        .filter(|n| *n > page)
}

/// Parses a 2xx body, saying what was wrong with it when it is not the JSON expected.
pub(super) fn decode<T: DeserializeOwned>(
    what: &str,
    response: &FullResponse,
) -> Result<T, GitLabError> {
    let fail = |reason: String| GitLabError::Decode {
        what: what.to_string(),
        reason,
    };
    let body = &response.body;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(fail(format!(
            "empty body (HTTP {})",
            response.status.as_u16()
        )));
    }
    let content_type = response
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if content_type.contains("html") || first == Some(b'<') {
        return Err(fail(
            "an HTML page instead of JSON: is the URL that of a GitLab instance, or is a proxy in the way?".into(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        let kind = match e.classify() {
            serde_json::error::Category::Eof => "truncated JSON",
            serde_json::error::Category::Syntax => "malformed JSON",
            serde_json::error::Category::Data => "JSON of an unexpected shape",
            serde_json::error::Category::Io => "unreadable body",
        };
        fail(format!("{kind}: {e}"))
    })
}

/// GitLab's message, however it came: `message` as a string or a hash of
/// field errors, Grape's `error`, or the OAuth `error_description`.
fn gitlab_message(body: &Value) -> Option<String> {
    fn flatten(v: &Value, prefix: &str, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(if prefix.is_empty() {
                s.clone()
            } else {
                format!("{prefix} {s}")
            }),
            Value::Array(items) => items.iter().for_each(|i| flatten(i, prefix, out)),
            Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix} {k}")
                    };
                    flatten(v, &key, out);
                }
            }
            other => out.push(format!("{prefix} {other}").trim().to_string()),
        }
    }
    let mut parts = Vec::new();
    if let Some(m) = body.get("message") {
        flatten(m, "", &mut parts);
    } else if let Some(d) = body.get("error_description") {
        flatten(d, "", &mut parts);
    } else if let Some(e) = body.get("error") {
        flatten(e, "", &mut parts);
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// A typed error for a non-2xx answer; the body is scrubbed of the token.
pub(super) fn status_error(what: &str, response: &FullResponse, token: &Secret) -> GitLabError {
    let text = token.scrub(&String::from_utf8_lossy(&response.body));
    let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let message = gitlab_message(&json).unwrap_or_else(|| {
        let mut cut: String = text.trim().chars().take(200).collect();
        if cut.is_empty() {
            cut = format!("HTTP {}", response.status.as_u16());
        }
        cut
    });
    let message = message.replace(['\n', '\r'], " ");
    let what = what.to_string();
    let error_code = json.get("error").and_then(Value::as_str).unwrap_or("");
    match response.status.as_u16() {
        401 if message.contains("expired") => GitLabError::TokenExpired { what },
        401 => GitLabError::Unauthorized { what },
        403 if error_code == "insufficient_scope" => GitLabError::InsufficientScope { what },
        403 => GitLabError::Forbidden { what, message },
        404 => GitLabError::NotFound { what },
        400 | 409 | 422 => GitLabError::Validation { what, message },
        429 => GitLabError::RateLimited { what },
        status => GitLabError::Server { status, what },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    #[test]
    fn messages_are_flattened_to_one_line() {
        let body = json!({"message": {"title": ["is too long (maximum is 255 characters)"]}});
        assert_eq!(
            gitlab_message(&body).unwrap(),
            "title is too long (maximum is 255 characters)"
        );
        assert_eq!(
            gitlab_message(&json!({"error": "title is missing"})).unwrap(),
            "title is missing"
        );
        assert_eq!(
            gitlab_message(&json!({"message": "404 Not found"})).unwrap(),
            "404 Not found"
        );
    }

    #[test]
    fn next_page_from_headers_or_link() {
        let mut h = HeaderMap::new();
        h.insert("x-next-page", HeaderValue::from_static(""));
        assert_eq!(next_page(&h, 3), None);
        h.insert("x-next-page", HeaderValue::from_static("4"));
        assert_eq!(next_page(&h, 3), Some(4));
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            HeaderValue::from_static("<http://h/api/v4/x?page=1>; rel=\"prev\", <http://h/api/v4/x?page=3&per_page=100>; rel=\"next\""),
        );
        assert_eq!(next_page(&h, 2), Some(3));
    }
}
