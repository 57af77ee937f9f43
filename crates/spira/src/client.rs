//! The Spira REST v7 client: every call the sync engine makes.
//!
//! Credentials go in the `username` and `api-key` headers only, so the key is
//! never part of a URL; error bodies are scrubbed of it before they are used.

use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::SpiraError;
use labsync_http::secret::Secret;
use labsync_http::{HttpClient, HttpSettings, Idempotency};

/// Where the v7 API lives under a Spira server's address.
pub const API_PATH: &str = "Services/v7_0/RestService.svc";

/// Spira's limit of rows per call (reference §3.1).
pub(crate) const MAX_PAGE_SIZE: u32 = 500;

#[derive(Clone)]
pub struct SpiraClient {
    http: HttpClient,
    /// The API root, ending in `/`.
    base: Url,
    login: String,
    api_key: Secret,
    /// `username` and `api-key` header values, marked sensitive: kept out of
    /// reqwest's and hyper's debug output and of HTTP/2 header compression.
    auth: [HeaderValue; 2],
    page_size: u32,
}

impl std::fmt::Debug for SpiraClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpiraClient")
            .field("base", &self.base.as_str())
            .field("login", &self.login)
            .field("api_key", &self.api_key)
            .finish()
    }
}

impl SpiraClient {
    /// `base_url` is the server's address (e.g. `https://myco.spiraservice.net`);
    /// the API path is appended unless it is already there.
    pub fn new(
        base_url: &str,
        login: String,
        api_key: Secret,
        settings: HttpSettings,
    ) -> Result<Self, SpiraError> {
        let shown = labsync_http::redact::scrub_url(base_url);
        if !labsync_http::redact::credentials_in(base_url).is_empty() {
            return Err(SpiraError::Config(format!(
                "Spira URL '{shown}': give the server's address alone, without credentials"
            )));
        }
        let mut root = base_url.trim().trim_end_matches('/').to_string();
        if !root
            .to_ascii_lowercase()
            .ends_with(&API_PATH.to_ascii_lowercase())
        {
            root.push('/');
            root.push_str(API_PATH);
        }
        root.push('/');
        let base = Url::parse(&root)
            .map_err(|e| SpiraError::Config(format!("Spira URL '{shown}' is not valid: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(SpiraError::Config(format!(
                "Spira URL '{shown}' must start with http:// or https://"
            )));
        }
        if login.trim().is_empty() || api_key.is_empty() {
            return Err(SpiraError::Config(
                "the Spira login and api key must both be set".to_string(),
            ));
        }
        let sensitive = |value: &str, what: &str| {
            let mut v = HeaderValue::from_str(value).map_err(|_| {
                SpiraError::Config(format!(
                    "the Spira {what} holds characters an HTTP header cannot carry"
                ))
            })?;
            v.set_sensitive(true);
            Ok::<_, SpiraError>(v)
        };
        let auth = [
            sensitive(&login, "login")?,
            sensitive(api_key.expose(), "api key")?,
        ];
        Ok(SpiraClient {
            http: HttpClient::new(settings)?.named("Spira"),
            base,
            login,
            api_key,
            auth,
            page_size: MAX_PAGE_SIZE,
        })
    }

    /// Rows asked for per search call (1..=500); tests use small pages.
    pub fn with_page_size(mut self, rows: u32) -> Self {
        self.page_size = rows.clamp(1, MAX_PAGE_SIZE);
        self
    }

    pub(crate) fn page_size(&self) -> u32 {
        self.page_size
    }

    pub fn login(&self) -> &str {
        &self.login
    }

    /// The server's clock now, as its last answer's `Date` header told.
    pub fn server_now(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.http.server_now()
    }

    /// Why this server is not asked again this cycle (it did not answer
    /// several requests in a row, or the cycle's deadline passed).
    pub fn down(&self) -> Option<labsync_http::HttpError> {
        self.http.down()
    }

    // ---- plumbing -------------------------------------------------------------

    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<T, SpiraError> {
        self.send::<(), T>(Method::GET, path, query, None, Idempotency::Safe, what)
            .await
    }

    pub(super) async fn send<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        idempotency: Idempotency,
        what: &str,
    ) -> Result<T, SpiraError> {
        let bytes = self
            .exchange(method, path, query, body, idempotency, what)
            .await?;
        decode(&bytes, what, &self.api_key)
    }

    /// For calls that answer 200 with no body (PUT, DELETE).
    pub(super) async fn send_no_answer<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        what: &str,
    ) -> Result<(), SpiraError> {
        self.exchange(method, path, &[], body, Idempotency::Safe, what)
            .await
            .map(|_| ())
    }

    /// The request with Spira's credential headers.
    fn signed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let [login, key] = &self.auth;
        request.header("username", login).header("api-key", key)
    }

    /// Sends one request (with the HTTP layer's retries), reads the whole
    /// body, and turns a non-2xx status into a typed error.
    async fn exchange<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        idempotency: Idempotency,
        what: &str,
    ) -> Result<Vec<u8>, SpiraError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| SpiraError::Config(format!("cannot build the URL of {what}: {e}")))?;
        let payload = match body {
            Some(b) => Some(serde_json::to_vec(b).map_err(|e| SpiraError::Validation {
                what: what.to_string(),
                message: format!("cannot encode the request: {e}"),
            })?),
            None => None,
        };
        // send_full asks again when a repeatable answer breaks off mid-body.
        let answer = self
            .http
            .send_full(what, idempotency, |client| {
                let mut request = self
                    .signed(client.request(method.clone(), url.clone()))
                    .header(reqwest::header::ACCEPT, "application/json");
                if !query.is_empty() {
                    request = request.query(query);
                }
                if let Some(p) = &payload {
                    request = request
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(p.clone());
                }
                request
            })
            .await?;
        if answer.status.is_success() {
            Ok(answer.body)
        } else {
            Err(status_error(
                answer.status,
                &answer.body,
                what,
                &self.api_key,
            ))
        }
    }
}

/// Maps a refusal to a typed error (reference §10).
fn status_error(status: StatusCode, body: &[u8], what: &str, key: &Secret) -> SpiraError {
    let message = key.scrub(&message_of(body));
    let what = what.to_string();
    match status.as_u16() {
        401 | 403 => SpiraError::Unauthorized { what, message },
        // Spira's docs say access errors may come back as 404 "Access Denied".
        404 if message.to_ascii_lowercase().contains("access denied") => {
            SpiraError::Unauthorized { what, message }
        }
        404 => SpiraError::NotFound { what },
        409 => SpiraError::Concurrency { what },
        code @ 400..=499 if code != 429 => SpiraError::Validation { what, message },
        code => SpiraError::Server {
            status: code,
            what,
            message,
        },
    }
}

/// The readable part of an error body: a JSON string, `{"Message": ...}`
/// with the field reasons of a ValidationFaultMessage (`Messages`), or the
/// text itself, cut short.
fn message_of(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let message = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(map)) => {
            let summary = map
                .get("Message")
                .or_else(|| map.get("message"))
                .and_then(|m| m.as_str())
                .map(str::to_string);
            match (summary, field_reasons(&map)) {
                (Some(s), Some(fields)) => format!("{s} ({fields})"),
                (None, Some(fields)) => fields,
                (Some(s), None) => s,
                (None, None) => text.to_string(),
            }
        }
        _ if text.starts_with('<') => "an HTML page instead of a message".to_string(),
        _ if text.is_empty() => "no message".to_string(),
        _ => text.to_string(),
    };
    let one_line = message.replace(['\r', '\n'], " ");
    let mut cut: String = one_line.chars().take(300).collect();
    if cut.len() < one_line.len() {
        cut.push('…');
    }
    cut
}

/// The `Messages` of a ValidationFaultMessage as "Field: reason; …"
/// (mcp-server-spira reads the same items from the XML form).
fn field_reasons(map: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let items = map.get("Messages")?.as_array()?;
    let reasons: Vec<String> = items
        .iter()
        .filter_map(|item| {
            let message = item.get("Message")?.as_str()?;
            Some(match item.get("FieldName").and_then(|f| f.as_str()) {
                Some(field) if !field.is_empty() => format!("{field}: {message}"),
                _ => message.to_string(),
            })
        })
        .collect();
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

fn decode<T: DeserializeOwned>(body: &[u8], what: &str, key: &Secret) -> Result<T, SpiraError> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    let reason = if trimmed.is_empty() {
        "the body is empty".to_string()
    } else if trimmed.starts_with('<') {
        "the body is an HTML or XML page, not JSON (is the URL right?)".to_string()
    } else {
        match serde_json::from_str(trimmed) {
            Ok(value) => return Ok(value),
            Err(e) => format!("malformed JSON: {}", key.scrub(&e.to_string())),
        }
    };
    Err(SpiraError::Decode {
        what: what.to_string(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Incident;

    #[test]
    fn error_bodies_lose_the_key_and_map_to_kinds() {
        let key = Secret::new("{ABCDEF12-3456}");
        let e = status_error(
            StatusCode::UNAUTHORIZED,
            b"\"bad key {ABCDEF12-3456}\"",
            "x",
            &key,
        );
        assert!(matches!(e, SpiraError::Unauthorized { .. }));
        assert!(!e.to_string().contains("ABCDEF12"));
        let e = status_error(StatusCode::NOT_FOUND, b"Access Denied", "x", &key);
        assert!(matches!(e, SpiraError::Unauthorized { .. }));
        let e = status_error(StatusCode::NOT_FOUND, b"Incident not found", "x", &key);
        assert!(matches!(e, SpiraError::NotFound { .. }));
        let fault =
            br#"{"Message":"not valid","Messages":[{"FieldName":"OwnerId","Message":"required"}]}"#;
        let e = status_error(StatusCode::BAD_REQUEST, fault, "x", &key);
        assert!(matches!(e, SpiraError::Validation { .. }));
        assert!(
            e.to_string().contains("not valid (OwnerId: required)"),
            "{e}"
        );
        let e = decode::<Incident>(b"<html>login</html>", "x", &key).unwrap_err();
        assert!(e.to_string().contains("HTML"));
        let e = decode::<Incident>(b"", "x", &key).unwrap_err();
        assert!(e.to_string().contains("empty"));
    }

    #[test]
    fn the_credential_headers_are_sensitive() {
        let client = SpiraClient::new(
            "https://x.example/",
            "bot-login".into(),
            Secret::new("{KEY-1234-ABCD}"),
            HttpSettings::default(),
        )
        .unwrap();
        let request = client
            .signed(client.http.client().get("https://x.example/a"))
            .build()
            .unwrap();
        for name in ["api-key", "username"] {
            let value = request.headers().get(name).unwrap();
            assert!(value.is_sensitive(), "{name} is not marked sensitive");
        }
        let shown = format!("{request:?}");
        assert!(!shown.contains("KEY-1234"), "{shown}");
    }

    #[test]
    fn base_url_gets_the_api_path_once() {
        let key = Secret::new("{K}");
        let c = SpiraClient::new(
            "https://x.example/",
            "a".into(),
            key.clone(),
            HttpSettings::default(),
        )
        .unwrap();
        assert_eq!(
            c.base.as_str(),
            "https://x.example/Services/v7_0/RestService.svc/"
        );
        let c = SpiraClient::new(
            "https://x.example/Services/v7_0/RestService.svc",
            "a".into(),
            key,
            HttpSettings::default(),
        )
        .unwrap();
        assert_eq!(
            c.base.as_str(),
            "https://x.example/Services/v7_0/RestService.svc/"
        );
    }
}
