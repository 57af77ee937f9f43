//! The GitLab REST v4 client. Every call names what it is about, so an error
//! reads "issue #42 of demo/webshop: not found (404)". The token travels
//! only in the `PRIVATE-TOKEN` header, marked sensitive.

use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::{Stream, StreamExt, stream};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::answers::{decode, next_page, status_error};
use super::error::GitLabError;
use labsync_http::secret::Secret;
use labsync_http::{FullResponse, HttpClient, HttpSettings, Idempotency};

/// GitLab's maximum page size: fewest requests for a full listing.
pub(super) const PER_PAGE: u32 = 100;

pub(super) type Query = Vec<(String, String)>;

#[derive(Clone)]
pub struct GitLabClient {
    http: HttpClient,
    /// "https://gitlab.example.com/api/v4", no trailing slash.
    api: String,
    pub(super) token: Secret,
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

pub(super) fn q(pairs: &[(&str, &str)]) -> Query {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(super) fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl GitLabClient {
    /// `base_url` is the instance ("https://gitlab.com"); `/api/v4` is added
    /// unless already there.
    pub fn new(base_url: &str, token: Secret, settings: HttpSettings) -> Result<Self, GitLabError> {
        let bad = |reason: &str| GitLabError::BadUrl {
            url: labsync_http::redact::scrub_url(base_url).into_owned(),
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
        if token.expose().trim().is_empty() {
            return Err(GitLabError::BadToken {
                reason: "it is empty".into(),
            });
        }
        let mut auth =
            HeaderValue::from_str(token.expose()).map_err(|_| GitLabError::BadToken {
                reason: "it holds characters an HTTP header cannot carry".into(),
            })?;
        // Keeps it out of reqwest's and hyper's debug output.
        auth.set_sensitive(true);
        let http = HttpClient::new(settings)?.named("GitLab");
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

    /// The server's clock now, as its last answer's `Date` header told.
    pub fn server_now(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.http.server_now()
    }

    /// Why this server is not asked again this cycle (it did not answer
    /// several requests in a row, or the cycle's deadline passed).
    pub fn down(&self) -> Option<labsync_http::HttpError> {
        self.http.down()
    }

    /// Sends one request through the shared HTTP layer; any status comes back.
    pub(super) async fn raw(
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
    pub(super) async fn call(
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

    pub(super) async fn get<T: DeserializeOwned>(
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

    pub(super) fn encode_body(what: &str, body: &impl Serialize) -> Result<Vec<u8>, GitLabError> {
        serde_json::to_vec(body).map_err(|e| GitLabError::Decode {
            what: what.to_string(),
            reason: format!("could not encode the request: {e}"),
        })
    }

    /// A create: not sent twice unless GitLab surely did not act on it.
    pub(super) async fn post<T: DeserializeOwned>(
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
    pub(super) async fn put<T: DeserializeOwned>(
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
    pub(super) fn paged<T: DeserializeOwned + 'static>(
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
                    // GitLab drops what the caller may not read after
                    // paging (notes: `lib/api/notes.rb`): a short or empty
                    // page is not the end while a next page is named.
                    Ok(response) => decode::<Vec<T>>(&what, &response)
                        .map(|items| (items, next_page(&response.headers, page))),
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
}

pub(super) fn short(text: &str) -> String {
    let mut cut: String = text.chars().take(60).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}
