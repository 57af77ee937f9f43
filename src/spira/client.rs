//! The Spira REST v7 client: every call the sync engine makes.
//!
//! Credentials go in the `username` and `api-key` headers only, so the key is
//! never part of a URL; error bodies are scrubbed of it before they are used.

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::SpiraError;
use super::types::{Comment, Filter, Incident, Project, Release, User};
use crate::http::{HttpClient, HttpError, HttpSettings, Idempotency};
use crate::secret::Secret;

/// Where the v7 API lives under a Spira server's address.
pub const API_PATH: &str = "Services/v7_0/RestService.svc";

/// Spira's limit of rows per call (reference §3.1).
pub const MAX_PAGE_SIZE: u32 = 500;

/// How often a body that broke off mid-answer is fetched again (GET/PUT only).
const BODY_RETRIES: usize = 2;

#[derive(Clone)]
pub struct SpiraClient {
    http: HttpClient,
    /// The API root, ending in `/`.
    base: Url,
    login: String,
    api_key: Secret,
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
            .map_err(|e| SpiraError::Config(format!("Spira URL '{base_url}' is not valid: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(SpiraError::Config(format!(
                "Spira URL '{base_url}' must start with http:// or https://"
            )));
        }
        if login.trim().is_empty() || api_key.is_empty() {
            return Err(SpiraError::Config(
                "the Spira login and api key must both be set".to_string(),
            ));
        }
        Ok(SpiraClient {
            http: HttpClient::new(settings)?,
            base,
            login,
            api_key,
            page_size: MAX_PAGE_SIZE,
        })
    }

    /// Rows asked for per search call (1..=500); tests use small pages.
    pub fn with_page_size(mut self, rows: u32) -> Self {
        self.page_size = rows.clamp(1, MAX_PAGE_SIZE);
        self
    }

    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    pub fn login(&self) -> &str {
        &self.login
    }

    // ---- projects and users ------------------------------------------------

    pub async fn get_project(&self, project: u32) -> Result<Project, SpiraError> {
        let what = format!("project PR:{project}");
        self.get(&format!("projects/{project}"), &[], &what).await
    }

    /// The user the api key belongs to.
    pub async fn current_user(&self) -> Result<User, SpiraError> {
        self.get("users", &[], &format!("user '{}'", self.login))
            .await
    }

    /// Active members of the project.
    pub async fn project_users(&self, project: u32) -> Result<Vec<User>, SpiraError> {
        let what = format!("users of project PR:{project}");
        self.get(&format!("projects/{project}/users"), &[], &what)
            .await
    }

    // ---- incidents -----------------------------------------------------------

    pub async fn get_incident(&self, project: u32, id: u32) -> Result<Incident, SpiraError> {
        let what = incident_what(project, id);
        self.get(&format!("projects/{project}/incidents/{id}"), &[], &what)
            .await
    }

    /// Creates an incident and returns it as Spira then holds it. Spira's
    /// answer to a create is the submitted object plus its id, without the
    /// server-computed fields, so the incident is read again.
    pub async fn create_incident(
        &self,
        project: u32,
        incident: &Incident,
    ) -> Result<Incident, SpiraError> {
        let what = format!("new incident '{}' in project PR:{project}", short(incident));
        let created: Incident = self
            .send(
                Method::POST,
                &format!("projects/{project}/incidents"),
                &[],
                Some(incident),
                Idempotency::Unsafe,
                &what,
            )
            .await?;
        let id = created.incident_id.ok_or_else(|| SpiraError::Decode {
            what: what.clone(),
            reason: "the answer has no IncidentId".to_string(),
        })?;
        self.get_incident(project, id).await
    }

    /// Saves the whole incident (a PUT replaces every writable field). Its
    /// `ConcurrencyDate` must be the one last read, or Spira answers 409 and
    /// this returns [`SpiraError::Concurrency`].
    pub async fn update_incident(
        &self,
        project: u32,
        incident: &Incident,
    ) -> Result<(), SpiraError> {
        let id = incident.incident_id.ok_or_else(|| SpiraError::Validation {
            what: format!("an incident update in project PR:{project}"),
            message: "the incident has no IncidentId".to_string(),
        })?;
        let what = incident_what(project, id);
        self.send_no_answer(
            Method::PUT,
            &format!("projects/{project}/incidents/{id}"),
            Some(incident),
            &what,
        )
        .await
    }

    /// Reads the incident, applies `change`, saves it, and returns it as read
    /// after the save. When somebody saves it in between (409), it reads,
    /// applies and saves once more; a second conflict is returned as
    /// [`SpiraError::Concurrency`] for the engine to queue the item.
    ///
    /// Spira silently ignores a status change when the template does not let
    /// the API change statuses: compare the returned status with the wanted one.
    pub async fn update_incident_with<F>(
        &self,
        project: u32,
        id: u32,
        change: F,
    ) -> Result<Incident, SpiraError>
    where
        F: Fn(&mut Incident),
    {
        let mut attempt = 0;
        loop {
            let mut incident = self.get_incident(project, id).await?;
            change(&mut incident);
            incident.incident_id = Some(id);
            match self.update_incident(project, &incident).await {
                Ok(()) => {
                    let saved = self.get_incident(project, id).await?;
                    if incident.incident_status_id.is_some()
                        && saved.incident_status_id != incident.incident_status_id
                    {
                        tracing::warn!(
                            incident = id,
                            project,
                            "Spira kept the incident's status: the template does not let the API change statuses"
                        );
                    }
                    return Ok(saved);
                }
                Err(SpiraError::Concurrency { .. }) if attempt == 0 => {
                    tracing::debug!(
                        incident = id,
                        project,
                        "concurrency conflict; reading again"
                    );
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Soft-deletes an incident.
    pub async fn delete_incident(&self, project: u32, id: u32) -> Result<(), SpiraError> {
        let what = incident_what(project, id);
        self.send_no_answer::<()>(
            Method::DELETE,
            &format!("projects/{project}/incidents/{id}"),
            None,
            &what,
        )
        .await
    }

    /// One page of an incident search, `start_row` 1-based; results are
    /// sorted ascending by `sort_by`.
    pub async fn search_incidents(
        &self,
        project: u32,
        filters: &[Filter],
        start_row: u32,
        rows: u32,
        sort_by: &str,
    ) -> Result<Vec<Incident>, SpiraError> {
        let what = format!("incident search in project PR:{project} (rows {start_row}+{rows})");
        let query = [
            ("start_row", start_row.to_string()),
            ("number_rows", rows.min(MAX_PAGE_SIZE).to_string()),
            ("sort_by", sort_by.to_string()),
        ];
        self.send(
            Method::POST,
            &format!("projects/{project}/incidents/search"),
            &query,
            Some(&filters),
            // A search changes nothing, so it may be repeated.
            Idempotency::Safe,
            &what,
        )
        .await
    }

    /// Incidents whose Text custom property `property_number` is exactly
    /// `value`. Spira's string filter is a substring match, so "4" also finds
    /// "42"; the results are checked here.
    pub async fn find_incidents_by_custom_property(
        &self,
        project: u32,
        property_number: u32,
        value: &str,
    ) -> Result<Vec<Incident>, SpiraError> {
        let filters = [Filter {
            property_name: format!("Custom_{property_number:02}"),
            string_value: Some(value.to_string()),
            ..Filter::default()
        }];
        let mut found = Vec::new();
        let mut start_row = 1;
        loop {
            let page = self
                .search_incidents(project, &filters, start_row, self.page_size, "IncidentId")
                .await?;
            let full = page.len() as u32 >= self.page_size;
            start_row += page.len() as u32;
            found.extend(
                page.into_iter()
                    .filter(|i| i.custom_text(property_number) == Some(value)),
            );
            if !full {
                return Ok(found);
            }
        }
    }

    // ---- comments -------------------------------------------------------------

    /// Every comment of the incident, oldest first.
    pub async fn list_comments(
        &self,
        project: u32,
        incident: u32,
    ) -> Result<Vec<Comment>, SpiraError> {
        let what = format!("comments of {}", incident_what(project, incident));
        let comments: Vec<Comment> = self
            .get(
                &format!("projects/{project}/incidents/{incident}/comments"),
                &[],
                &what,
            )
            .await?;
        Ok(comments.into_iter().filter(|c| !c.is_deleted).collect())
    }

    /// Comments with an id above `after_comment_id` (ids only grow), for an
    /// engine that remembers the last comment it has seen per incident.
    pub async fn comments_after(
        &self,
        project: u32,
        incident: u32,
        after_comment_id: u32,
    ) -> Result<Vec<Comment>, SpiraError> {
        let mut comments = self.list_comments(project, incident).await?;
        comments.retain(|c| c.comment_id.is_some_and(|id| id > after_comment_id));
        Ok(comments)
    }

    /// Adds one comment; `user_id` sets the author (default: the api user).
    pub async fn add_comment(
        &self,
        project: u32,
        incident: u32,
        text: &str,
        user_id: Option<u32>,
    ) -> Result<Comment, SpiraError> {
        let comment = Comment {
            user_id,
            text: text.to_string(),
            ..Comment::default()
        };
        let what = format!("new comment on {}", incident_what(project, incident));
        // Spira takes and returns an array.
        let added: Vec<Comment> = self
            .send(
                Method::POST,
                &format!("projects/{project}/incidents/{incident}/comments"),
                &[],
                Some(&[comment]),
                Idempotency::Unsafe,
                &what,
            )
            .await?;
        added.into_iter().next().ok_or_else(|| SpiraError::Decode {
            what,
            reason: "the answer is an empty list".to_string(),
        })
    }

    // ---- releases -------------------------------------------------------------

    pub async fn releases(&self, project: u32) -> Result<Vec<Release>, SpiraError> {
        let what = format!("releases of project PR:{project}");
        self.get(
            &format!("projects/{project}/releases"),
            &[("active_only", "false".to_string())],
            &what,
        )
        .await
    }

    pub async fn get_release(&self, project: u32, id: u32) -> Result<Release, SpiraError> {
        let what = format!("release RL:{id} of project PR:{project}");
        self.get(&format!("projects/{project}/releases/{id}"), &[], &what)
            .await
    }

    /// Creates a release at the top level and returns it as read back.
    pub async fn create_release(
        &self,
        project: u32,
        release: &Release,
    ) -> Result<Release, SpiraError> {
        let what = format!("new release '{}' in project PR:{project}", release.name);
        let created: Release = self
            .send(
                Method::POST,
                &format!("projects/{project}/releases"),
                &[],
                Some(release),
                Idempotency::Unsafe,
                &what,
            )
            .await?;
        let id = created.release_id.ok_or_else(|| SpiraError::Decode {
            what: what.clone(),
            reason: "the answer has no ReleaseId".to_string(),
        })?;
        self.get_release(project, id).await
    }

    /// Saves a release; Spira takes its id from the body, not the path.
    pub async fn update_release(&self, project: u32, release: &Release) -> Result<(), SpiraError> {
        let id = release.release_id.ok_or_else(|| SpiraError::Validation {
            what: format!("a release update in project PR:{project}"),
            message: "the release has no ReleaseId".to_string(),
        })?;
        let what = format!("release RL:{id} of project PR:{project}");
        self.send_no_answer(
            Method::PUT,
            &format!("projects/{project}/releases"),
            Some(release),
            &what,
        )
        .await
    }

    // ---- plumbing -------------------------------------------------------------

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<T, SpiraError> {
        self.send::<(), T>(Method::GET, path, query, None, Idempotency::Safe, what)
            .await
    }

    async fn send<B: Serialize + ?Sized, T: DeserializeOwned>(
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
    async fn send_no_answer<B: Serialize + ?Sized>(
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
        let mut attempt = 0;
        loop {
            let response = self
                .http
                .send(what, idempotency, |client| {
                    let mut request = client
                        .request(method.clone(), url.clone())
                        .header("username", &self.login)
                        .header("api-key", self.api_key.expose())
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
            let status = response.status();
            match response.bytes().await {
                Ok(bytes) if status.is_success() => return Ok(bytes.to_vec()),
                Ok(bytes) => return Err(status_error(status, &bytes, what, &self.api_key)),
                // The answer broke off: the HTTP layer saw a status and stopped
                // retrying, so a repeatable request is sent again here.
                Err(e) if idempotency == Idempotency::Safe && attempt < BODY_RETRIES => {
                    tracing::debug!(what, cause = %e, "answer broke off; asking again");
                    attempt += 1;
                }
                Err(e) => {
                    return Err(SpiraError::Http(HttpError::Transport {
                        what: what.to_string(),
                        reason: format!("the answer broke off: {}", without_url(&e)),
                    }));
                }
            }
        }
    }
}

fn incident_what(project: u32, id: u32) -> String {
    format!("incident IN:{id} of project PR:{project}")
}

fn short(incident: &Incident) -> String {
    let name = incident.name.as_deref().unwrap_or("");
    let mut cut: String = name.chars().take(60).collect();
    if cut.len() < name.len() {
        cut.push('…');
    }
    cut
}

fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "");
    }
    text
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

/// The readable part of an error body: a JSON string, `{"Message": ...}`,
/// or the text itself, cut short.
fn message_of(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let message = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(map)) => map
            .get("Message")
            .or_else(|| map.get("message"))
            .and_then(|m| m.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| text.to_string()),
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
        let e = decode::<Incident>(b"<html>login</html>", "x", &key).unwrap_err();
        assert!(e.to_string().contains("HTML"));
        let e = decode::<Incident>(b"", "x", &key).unwrap_err();
        assert!(e.to_string().contains("empty"));
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
