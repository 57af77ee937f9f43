//! The GitLab REST v4 client. Every call names what it is about, so an error
//! reads "issue #42 of demo/webshop: not found (404)". The token travels
//! only in the `PRIVATE-TOKEN` header, marked sensitive.

use std::collections::HashSet;

use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::{Stream, StreamExt, TryStreamExt, future, stream};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::GitLabError;
use super::types::*;
use crate::http::{FullResponse, HttpClient, HttpSettings, Idempotency};
use crate::secret::Secret;

/// GitLab's maximum page size: fewest requests for a full listing.
const PER_PAGE: u32 = 100;

type Query = Vec<(String, String)>;

#[derive(Clone)]
pub struct GitLabClient {
    http: HttpClient,
    /// "https://gitlab.example.com/api/v4", no trailing slash.
    api: String,
    token: Secret,
    auth: HeaderValue,
}

impl std::fmt::Debug for GitLabClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitLabClient")
            .field("api", &self.api)
            .field("token", &self.token)
            .finish()
    }
}

fn q(pairs: &[(&str, &str)]) -> Query {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl GitLabClient {
    /// `base_url` is the instance ("https://gitlab.com"); `/api/v4` is added
    /// unless already there.
    pub fn new(base_url: &str, token: Secret, settings: HttpSettings) -> Result<Self, GitLabError> {
        let bad = |reason: &str| GitLabError::BadUrl {
            url: base_url.to_string(),
            reason: reason.to_string(),
        };
        let parsed = url::Url::parse(base_url.trim()).map_err(|e| bad(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("the scheme must be http or https"));
        }
        if parsed.query().is_some() || !parsed.username().is_empty() || parsed.password().is_some()
        {
            return Err(bad(
                "give the instance URL alone, without credentials or query",
            ));
        }
        let mut api = parsed.as_str().trim_end_matches('/').to_string();
        if !api.ends_with("/api/v4") {
            api.push_str("/api/v4");
        }
        let mut auth =
            HeaderValue::from_str(token.expose()).map_err(|_| GitLabError::Unauthorized {
                what: "GitLab token".into(),
            })?;
        // Keeps it out of reqwest's and hyper's debug output.
        auth.set_sensitive(true);
        let http = HttpClient::new(settings)?;
        Ok(GitLabClient {
            http,
            api,
            token,
            auth,
        })
    }

    pub fn api_url(&self) -> &str {
        &self.api
    }

    /// Sends one request through the shared HTTP layer; any status comes back.
    async fn raw(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &Query,
        body: Option<Vec<u8>>,
        idempotency: Idempotency,
    ) -> Result<FullResponse, GitLabError> {
        let url = format!("{}{}", self.api, path);
        let response = self
            .http
            .send_full(what, idempotency, |client| {
                let mut request = client
                    .request(method.clone(), &url)
                    .header("PRIVATE-TOKEN", self.auth.clone())
                    .query(query);
                if let Some(b) = &body {
                    request = request
                        .header(CONTENT_TYPE, "application/json")
                        .body(b.clone());
                }
                request
            })
            .await?;
        Ok(response)
    }

    /// Sends, and turns any non-2xx answer into a typed error.
    async fn call(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &Query,
        body: Option<Vec<u8>>,
        idempotency: Idempotency,
    ) -> Result<FullResponse, GitLabError> {
        let response = self
            .raw(what, method, path, query, body, idempotency)
            .await?;
        if response.status.is_success() {
            Ok(response)
        } else {
            Err(status_error(what, &response, &self.token))
        }
    }

    async fn get<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        query: &Query,
    ) -> Result<T, GitLabError> {
        let response = self
            .call(what, Method::GET, path, query, None, Idempotency::Safe)
            .await?;
        decode(what, &response)
    }

    fn encode_body(what: &str, body: &impl Serialize) -> Result<Vec<u8>, GitLabError> {
        serde_json::to_vec(body).map_err(|e| GitLabError::Decode {
            what: what.to_string(),
            reason: format!("could not encode the request: {e}"),
        })
    }

    /// A create: not sent twice unless GitLab surely did not act on it.
    async fn post<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, GitLabError> {
        let bytes = Self::encode_body(what, body)?;
        let response = self
            .call(
                what,
                Method::POST,
                path,
                &Vec::new(),
                Some(bytes),
                Idempotency::Unsafe,
            )
            .await?;
        decode(what, &response)
    }

    /// An edit sets state, so sending it twice does no harm.
    async fn put<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, GitLabError> {
        let bytes = Self::encode_body(what, body)?;
        let response = self
            .call(
                what,
                Method::PUT,
                path,
                &Vec::new(),
                Some(bytes),
                Idempotency::Safe,
            )
            .await?;
        decode(what, &response)
    }

    /// Every item of a paginated list, fetched a page at a time as the
    /// consumer pulls; the first error ends the stream.
    fn paged<T: DeserializeOwned + 'static>(
        &self,
        what: String,
        path: String,
        query: Query,
    ) -> impl Stream<Item = Result<T, GitLabError>> + '_ {
        stream::unfold(Some(1u64), move |page| {
            let (what, path, mut query) = (what.clone(), path.clone(), query.clone());
            async move {
                let page = page?;
                query.push(("page".into(), page.to_string()));
                query.push(("per_page".into(), PER_PAGE.to_string()));
                let what = format!("{what} (page {page})");
                let fetched = match self
                    .call(&what, Method::GET, &path, &query, None, Idempotency::Safe)
                    .await
                {
                    Ok(response) => decode::<Vec<T>>(&what, &response).map(|items| {
                        let next = match items.is_empty() {
                            true => None,
                            false => next_page(&response.headers, page),
                        };
                        (items, next)
                    }),
                    Err(e) => Err(e),
                };
                Some(match fetched {
                    Ok((items, next)) => (items.into_iter().map(Ok).collect::<Vec<_>>(), next),
                    Err(e) => (vec![Err(e)], None),
                })
            }
        })
        .flat_map(stream::iter)
    }

    // ---- issues ----

    /// Issues updated at or after `since` (all of them when `None`), oldest
    /// update first, every state. Each issue comes once per run even when an
    /// update moves it to a later page while the listing runs.
    pub fn list_issues_updated_since(
        &self,
        project: &ProjectRef,
        since: Option<DateTime<Utc>>,
    ) -> impl Stream<Item = Result<Issue, GitLabError>> + '_ {
        let mut query = q(&[
            ("order_by", "updated_at"),
            ("sort", "asc"),
            ("state", "all"),
        ]);
        if let Some(t) = since {
            query.push(("updated_after".into(), iso(t)));
        }
        let mut seen = HashSet::new();
        self.paged::<Issue>(
            format!("issues of {project}"),
            format!("/projects/{}/issues", project.segment()),
            query,
        )
        .filter(move |item| {
            future::ready(match item {
                Ok(issue) => seen.insert(issue.id),
                Err(_) => true,
            })
        })
    }

    pub async fn get_issue(&self, project: &ProjectRef, iid: u64) -> Result<Issue, GitLabError> {
        let what = format!("issue #{iid} of {project}");
        self.get(
            &what,
            &format!("/projects/{}/issues/{iid}", project.segment()),
            &Vec::new(),
        )
        .await
    }

    pub async fn create_issue(
        &self,
        project: &ProjectRef,
        issue: &NewIssue,
    ) -> Result<Issue, GitLabError> {
        let what = format!("new issue '{}' in {project}", short(&issue.title));
        self.post(
            &what,
            &format!("/projects/{}/issues", project.segment()),
            issue,
        )
        .await
    }

    pub async fn edit_issue(
        &self,
        project: &ProjectRef,
        iid: u64,
        edit: &IssueEdit,
    ) -> Result<Issue, GitLabError> {
        let what = format!("issue #{iid} of {project}");
        if edit.is_empty() {
            // GitLab would answer 400; nothing to change is not an error.
            return self.get_issue(project, iid).await;
        }
        self.put(
            &what,
            &format!("/projects/{}/issues/{iid}", project.segment()),
            edit,
        )
        .await
    }

    /// Issues whose description contains `text` (GitLab's search is fuzzy:
    /// the caller checks each candidate exactly).
    pub async fn find_issues_by_search(
        &self,
        project: &ProjectRef,
        text: &str,
    ) -> Result<Vec<Issue>, GitLabError> {
        let query = q(&[
            ("search", text),
            ("in", "description"),
            ("state", "all"),
            ("order_by", "created_at"),
            ("sort", "asc"),
        ]);
        self.paged::<Issue>(
            format!("issues of {project} matching a search"),
            format!("/projects/{}/issues", project.segment()),
            query,
        )
        .try_collect()
        .await
    }

    // ---- notes ----

    /// Notes of an issue, oldest first, system notes included (see
    /// [`Note::is_user_note`]).
    pub fn list_notes(
        &self,
        project: &ProjectRef,
        iid: u64,
    ) -> impl Stream<Item = Result<Note, GitLabError>> + '_ {
        self.paged(
            format!("notes of issue #{iid} of {project}"),
            format!("/projects/{}/issues/{iid}/notes", project.segment()),
            q(&[("sort", "asc"), ("order_by", "created_at")]),
        )
    }

    pub async fn create_note(
        &self,
        project: &ProjectRef,
        iid: u64,
        body: &str,
    ) -> Result<Note, GitLabError> {
        let what = format!("new comment on issue #{iid} of {project}");
        let path = format!("/projects/{}/issues/{iid}/notes", project.segment());
        let bytes = Self::encode_body(&what, &serde_json::json!({ "body": body }))?;
        let response = self
            .call(
                &what,
                Method::POST,
                &path,
                &Vec::new(),
                Some(bytes),
                Idempotency::Unsafe,
            )
            .await?;
        if response.status == StatusCode::ACCEPTED {
            // A body of quick actions only: GitLab ran them and made no note.
            return Err(GitLabError::Validation {
                what,
                message: "the comment held only quick actions; GitLab ran them and created no note"
                    .into(),
            });
        }
        decode(&what, &response)
    }

    pub async fn edit_note(
        &self,
        project: &ProjectRef,
        iid: u64,
        note_id: u64,
        body: &str,
    ) -> Result<Note, GitLabError> {
        let what = format!("comment {note_id} on issue #{iid} of {project}");
        let path = format!(
            "/projects/{}/issues/{iid}/notes/{note_id}",
            project.segment()
        );
        self.put(&what, &path, &serde_json::json!({ "body": body }))
            .await
    }

    // ---- labels and milestones ----

    pub async fn list_labels(&self, project: &ProjectRef) -> Result<Vec<Label>, GitLabError> {
        self.paged(
            format!("labels of {project}"),
            format!("/projects/{}/labels", project.segment()),
            Vec::new(),
        )
        .try_collect()
        .await
    }

    /// `name` may also be the label's id.
    pub async fn get_label(&self, project: &ProjectRef, name: &str) -> Result<Label, GitLabError> {
        let what = format!("label '{name}' of {project}");
        let path = format!(
            "/projects/{}/labels/{}",
            project.segment(),
            encode_segment(name)
        );
        self.get(&what, &path, &Vec::new()).await
    }

    /// Creates a label; one that already exists (409) is returned as is.
    pub async fn create_label(
        &self,
        project: &ProjectRef,
        label: &NewLabel,
    ) -> Result<Label, GitLabError> {
        let what = format!("label '{}' of {project}", label.name);
        let path = format!("/projects/{}/labels", project.segment());
        let bytes = Self::encode_body(&what, label)?;
        let response = self
            .raw(
                &what,
                Method::POST,
                &path,
                &Vec::new(),
                Some(bytes),
                Idempotency::Unsafe,
            )
            .await?;
        match response.status {
            StatusCode::CONFLICT => self.get_label(project, &label.name).await,
            s if s.is_success() => decode(&what, &response),
            _ => Err(status_error(&what, &response, &self.token)),
        }
    }

    pub async fn list_milestones(
        &self,
        project: &ProjectRef,
    ) -> Result<Vec<Milestone>, GitLabError> {
        self.paged(
            format!("milestones of {project}"),
            format!("/projects/{}/milestones", project.segment()),
            Vec::new(),
        )
        .try_collect()
        .await
    }

    pub async fn create_milestone(
        &self,
        project: &ProjectRef,
        milestone: &NewMilestone,
    ) -> Result<Milestone, GitLabError> {
        let what = format!("milestone '{}' of {project}", milestone.title);
        self.post(
            &what,
            &format!("/projects/{}/milestones", project.segment()),
            milestone,
        )
        .await
    }

    pub async fn edit_milestone(
        &self,
        project: &ProjectRef,
        milestone_id: u64,
        edit: &MilestoneEdit,
    ) -> Result<Milestone, GitLabError> {
        let what = format!("milestone {milestone_id} of {project}");
        let path = format!("/projects/{}/milestones/{milestone_id}", project.segment());
        self.put(&what, &path, edit).await
    }

    // ---- users, token, project, members ----

    pub async fn current_user(&self) -> Result<User, GitLabError> {
        self.get("the token's user (GET /user)", "/user", &Vec::new())
            .await
    }

    /// The user with this username (case-insensitive), if any.
    pub async fn find_user_by_username(&self, username: &str) -> Result<Option<User>, GitLabError> {
        let what = format!("user '{username}'");
        let users: Vec<User> = self
            .get(&what, "/users", &q(&[("username", username)]))
            .await?;
        Ok(users.into_iter().next())
    }

    pub async fn get_user(&self, id: u64) -> Result<User, GitLabError> {
        self.get(&format!("user {id}"), &format!("/users/{id}"), &Vec::new())
            .await
    }

    /// Scopes, expiry and owner of the token in use.
    pub async fn token_self(&self) -> Result<TokenInfo, GitLabError> {
        self.get(
            "the token (GET /personal_access_tokens/self)",
            "/personal_access_tokens/self",
            &Vec::new(),
        )
        .await
    }

    pub async fn project(&self, project: &ProjectRef) -> Result<Project, GitLabError> {
        let what = match project {
            ProjectRef::Path(p) => format!("project {p}"),
            ProjectRef::Id(_) => project.to_string(),
        };
        self.get(
            &what,
            &format!("/projects/{}", project.segment()),
            &Vec::new(),
        )
        .await
    }

    /// A user's effective access level in the project; `None` when not a member.
    pub async fn member_access_level(
        &self,
        project: &ProjectRef,
        user_id: u64,
    ) -> Result<Option<u32>, GitLabError> {
        let what = format!("membership of user {user_id} in {project}");
        let path = format!("/projects/{}/members/all/{user_id}", project.segment());
        match self.get::<Member>(&what, &path, &Vec::new()).await {
            Ok(member) => Ok(Some(member.access_level)),
            Err(GitLabError::NotFound { .. }) => {
                // Tell "no such member" from "no such project".
                self.project(project).await?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    // ---- hooks ----

    pub async fn list_hooks(&self, project: &ProjectRef) -> Result<Vec<Hook>, GitLabError> {
        self.paged(
            format!("webhooks of {project}"),
            format!("/projects/{}/hooks", project.segment()),
            Vec::new(),
        )
        .try_collect()
        .await
    }

    pub async fn create_hook(
        &self,
        project: &ProjectRef,
        hook: &NewHook,
    ) -> Result<Hook, GitLabError> {
        let what = format!("new webhook of {project}");
        self.post(
            &what,
            &format!("/projects/{}/hooks", project.segment()),
            hook,
        )
        .await
    }

    /// Deletes a hook; one already gone counts as deleted.
    pub async fn delete_hook(&self, project: &ProjectRef, hook_id: u64) -> Result<(), GitLabError> {
        let what = format!("webhook {hook_id} of {project}");
        let path = format!("/projects/{}/hooks/{hook_id}", project.segment());
        let response = self
            .raw(
                &what,
                Method::DELETE,
                &path,
                &Vec::new(),
                None,
                Idempotency::Safe,
            )
            .await?;
        let hook_gone = response.status == StatusCode::NOT_FOUND
            && String::from_utf8_lossy(&response.body).contains("Hook");
        if response.status.is_success() || hook_gone {
            Ok(())
        } else {
            Err(status_error(&what, &response, &self.token))
        }
    }
}

fn short(text: &str) -> String {
    let mut cut: String = text.chars().take(60).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

/// The next page: `X-Next-Page`, else `Link: rel="next"` (some proxies drop
/// the X- headers), else none.
fn next_page(headers: &HeaderMap, page: u64) -> Option<u64> {
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
fn decode<T: DeserializeOwned>(what: &str, response: &FullResponse) -> Result<T, GitLabError> {
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
fn status_error(what: &str, response: &FullResponse, token: &Secret) -> GitLabError {
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
