//! Spira's three ways to authenticate (reference §1), checked on every
//! request: Basic, the `username`/`api-key` headers, or the query string.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Shared;
use super::state::ApiError;

/// The authenticated user, for the handlers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Caller(pub u32);

pub(crate) async fn authenticate(
    State(shared): State<std::sync::Arc<Shared>>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some((login, key)) = credentials(req.headers(), req.uri().query()) else {
        return ApiError::unauthorized(
            "Authorization Failed: no username and api-key were supplied",
        )
        .into_response();
    };
    let user = {
        let db = shared.db();
        db.users
            .iter()
            .find(|u| u.active && u.login.eq_ignore_ascii_case(&login) && u.api_key == key)
            .map(|u| u.user_id)
    };
    match user {
        Some(id) => {
            req.extensions_mut().insert(Caller(id));
            next.run(req).await
        }
        None => {
            let refusal = if shared.db().access_denied_as_404 {
                // API-Overview, "Common Error Messages": "the system will
                // return the error code 404 and a message", "Access Denied".
                ApiError::not_found("Access Denied")
            } else {
                ApiError::unauthorized("Authorization Failed: the username or api-key is not valid")
            };
            refusal.into_response()
        }
    }
}

fn credentials(headers: &HeaderMap, query: Option<&str>) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        && let Some(pair) = decode_base64(basic.trim())
        && let Some((login, key)) = pair.split_once(':')
    {
        return Some((login.to_string(), key.to_string()));
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    if let (Some(login), Some(key)) = (header("username"), header("api-key")) {
        return Some((login, key));
    }
    let mut login = None;
    let mut key = None;
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match name.as_ref() {
            "username" => login = Some(value.into_owned()),
            "api-key" | "api_key" => key = Some(value.into_owned()),
            _ => {}
        }
    }
    login.zip(key)
}

/// Standard base64, enough for a Basic header (no crate needed for this).
fn decode_base64(text: &str) -> Option<String> {
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32;
        bits = (bits << 6) | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_decodes() {
        assert_eq!(
            decode_base64("YWxpY2U6e0FCQ30=").as_deref(),
            Some("alice:{ABC}")
        );
    }
}
