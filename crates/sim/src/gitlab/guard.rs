//! Middleware in front of the routes: request counting, authentication with
//! token scopes and expiry, and a Rack::Attack-style per-token throttle.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::app::{AppState, Caller};
use super::reply::ApiError;

/// Handled requests per "METHOD /template" and per status.
#[derive(Clone, Default)]
pub(crate) struct Counter {
    inner: Arc<Mutex<CounterInner>>,
}

#[derive(Default)]
struct CounterInner {
    routes: HashMap<String, u64>,
    statuses: HashMap<u16, u64>,
}

impl Counter {
    pub(crate) fn route_count(&self, fragment: &str) -> u64 {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner
            .routes
            .iter()
            .filter(|(k, _)| k.contains(fragment))
            .map(|(_, n)| n)
            .sum()
    }

    /// Every route seen, sorted, with its count.
    pub(crate) fn routes(&self) -> Vec<(String, u64)> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<(String, u64)> =
            inner.routes.iter().map(|(k, n)| (k.clone(), *n)).collect();
        all.sort();
        all
    }

    pub(crate) fn status_count(&self, status: u16) -> u64 {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.statuses.get(&status).copied().unwrap_or(0)
    }

    pub(crate) fn reset(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.routes.clear();
        inner.statuses.clear();
    }
}

/// Outermost route layer: counts every request and the status it got.
pub(crate) async fn count(State(counter): State<Counter>, req: Request, next: Next) -> Response {
    let route = format!(
        "{} {}",
        req.method(),
        req.extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str)
            .unwrap_or_else(|| req.uri().path())
    );
    let response = next.run(req).await;
    let mut inner = counter.inner.lock().unwrap_or_else(PoisonError::into_inner);
    *inner.routes.entry(route).or_default() += 1;
    *inner
        .statuses
        .entry(response.status().as_u16())
        .or_default() += 1;
    response
}

/// The authenticated-API throttle: a fixed window per token, aligned on the
/// epoch like Rack::Attack's periods. Real time, not the SimClock: clients
/// compare `RateLimit-Reset` with their own wall clock.
///
/// The settings can be changed while the simulator runs, as a GitLab admin
/// changes the rate limits in the admin area; clones share them.
#[derive(Clone)]
pub(crate) struct Throttle {
    inner: Arc<Mutex<ThrottleInner>>,
}

struct ThrottleInner {
    limit: Option<u32>,
    window: Duration,
    used: HashMap<u64, (u128, u32)>,
}

impl Throttle {
    pub(crate) fn new(limit: Option<u32>, window: Duration) -> Self {
        Throttle {
            inner: Arc::new(Mutex::new(ThrottleInner {
                limit,
                window: window.max(Duration::from_secs(1)),
                used: HashMap::new(),
            })),
        }
    }

    /// New settings from the next request on; the counts start again.
    pub(crate) fn set(&self, limit: Option<u32>, window: Duration) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.limit = limit;
        inner.window = window.max(Duration::from_secs(1));
        inner.used.clear();
    }

    /// Counts one request of `token_id`: the headers to send, and whether it
    /// is over the budget.
    fn hit(&self, token_id: u64) -> Option<(Vec<(&'static str, String)>, bool)> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let limit = inner.limit?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let period = inner.window.as_millis();
        let slot = now / period;
        let used = &mut inner.used;
        let entry = used.entry(token_id).or_insert((slot, 0));
        if entry.0 != slot {
            *entry = (slot, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        let observed = entry.1;
        let reset_ms = (slot + 1) * period;
        let reset_secs = reset_ms.div_ceil(1000);
        let retry_after = (reset_ms - now).div_ceil(1000).max(1);
        let reset_time = chrono::DateTime::from_timestamp(reset_secs as i64, 0)
            .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
            .unwrap_or_default();
        let headers = vec![
            ("ratelimit-name", "throttle_authenticated_api".to_string()),
            ("ratelimit-limit", limit.to_string()),
            ("ratelimit-observed", observed.min(limit).to_string()),
            (
                "ratelimit-remaining",
                limit.saturating_sub(observed).to_string(),
            ),
            ("ratelimit-reset", reset_secs.to_string()),
            ("ratelimit-resettime", reset_time),
            ("retry-after", retry_after.to_string()),
        ];
        Some((headers, observed > limit))
    }
}

#[derive(Clone)]
pub(crate) struct GuardState {
    pub app: AppState,
    /// Rack::Attack's authenticated-API throttle, per token.
    pub throttle: Throttle,
    /// The application limiter on issue and note creation, per user.
    pub creates: Throttle,
    /// Whether the application limiter's 429 says `Retry-After`.
    pub creates_retry_after: bool,
}

/// Routes the application limiter watches (`POST .../issues`, `.../notes`).
fn is_create(method: &Method, route: Option<&str>) -> bool {
    *method == Method::POST
        && route.is_some_and(|r| r.ends_with("/issues") || r.ends_with("/notes"))
}

fn token_from(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(v) = headers.get("private-token").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_string());
    }
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(v.trim().to_string());
    }
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "private_token" || k == "access_token")
        .map(|(_, v)| v.into_owned())
}

/// Which scopes let this request through: reads take `read_api` too, and the
/// user endpoints `read_user`.
fn scope_allows(scopes: &[String], method: &Method, path: &str) -> bool {
    let has = |s: &str| scopes.iter().any(|x| x == s);
    if has("api") {
        return true;
    }
    let read = matches!(*method, Method::GET | Method::HEAD);
    if read && has("read_api") {
        return true;
    }
    let user_path = path.ends_with("/user") || path.contains("/users");
    read && user_path && has("read_user") || read && path.ends_with("/personal_access_tokens/self")
}

pub(crate) async fn authenticate(
    State(guard): State<GuardState>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(value) = token_from(req.headers(), req.uri().query()) else {
        return ApiError::Unauthorized.into_response();
    };
    let checked = {
        let mut store = guard.app.lock();
        let today = guard.app.today();
        let now = guard.app.now();
        match store.tokens.iter_mut().find(|t| t.value == value) {
            None => Err(ApiError::Unauthorized),
            Some(t) if t.revoked => Err(ApiError::TokenRevoked),
            // A token expires at the start of its expiry date (UTC).
            Some(t) if t.expires_at.is_some_and(|d| d <= today) => Err(ApiError::TokenExpired),
            Some(t) => {
                t.last_used_at = Some(now);
                Ok((t.id, t.user_id, t.scopes.clone()))
            }
        }
    };
    let (token_id, user_id, scopes) = match checked {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let throttled = guard.throttle.hit(token_id);
    if let Some((headers, true)) = &throttled {
        // Rack::Attack's answer: plain text, not JSON.
        let mut response = (StatusCode::TOO_MANY_REQUESTS, "Retry later\n").into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        add_headers(&mut response, headers, true);
        return response;
    }
    if !scope_allows(&scopes, req.method(), req.uri().path()) {
        return ApiError::InsufficientScope.into_response();
    }
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    if is_create(req.method(), route)
        && let Some((headers, true)) = guard.creates.hit(user_id)
    {
        // The application limiter answers in JSON, unlike Rack::Attack, and
        // with no rate header at all (`lib/api/helpers/rate_limiter.rb`:
        // `render_api_error!(…, 429)`) unless the version adds Retry-After.
        let mut response = ApiError::TooManyRequests.into_response();
        let retry: Vec<_> = headers
            .into_iter()
            .filter(|(name, _)| *name == "retry-after" && guard.creates_retry_after)
            .collect();
        add_headers(&mut response, &retry, true);
        return response;
    }
    req.extensions_mut().insert(Caller { user_id, token_id });
    let mut response = next.run(req).await;
    if let Some((headers, _)) = &throttled {
        add_headers(&mut response, headers, false);
    }
    response
}

fn add_headers(response: &mut Response, headers: &[(&'static str, String)], blocked: bool) {
    for (name, value) in headers {
        if *name == "retry-after" && !blocked {
            continue;
        }
        if let Ok(v) = HeaderValue::from_str(value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), v);
        }
    }
}
