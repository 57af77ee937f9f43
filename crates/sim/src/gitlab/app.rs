//! What every handler shares: the store, the clock, the simulator's address,
//! and the request context (caller and parameters).

use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};

use super::params::Params;
use super::reply::ApiError;
use super::state::Store;
use crate::faults::SimClock;

#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Arc<Mutex<Store>>,
    pub clock: SimClock,
    /// "http://127.0.0.1:PORT", known once the listener is bound.
    pub base: Arc<OnceLock<String>>,
}

impl AppState {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn base(&self) -> &str {
        self.base.get().map_or("http://127.0.0.1", String::as_str)
    }

    /// The clock's now, at the millisecond precision the API shows, so a
    /// timestamp read back from an answer and sent as a bound matches exactly.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        truncate_ms(self.clock.now())
    }

    pub(crate) fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }
}

pub(crate) fn truncate_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// The authenticated caller, put in the request by the auth middleware.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub user_id: u64,
    pub token_id: u64,
}

/// Caller, request path and all parameters of one request.
pub(crate) struct Req {
    pub caller: Caller,
    pub params: Params,
    pub path: String,
}

impl<S: Send + Sync> FromRequest<S> for Req {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let caller = req
            .extensions()
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized.into_response())?;
        let path = req.uri().path().to_string();
        let mut params = Params::from_query(req.uri().query());
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::BadRequest("body could not be read".into()).into_response())?;
        params
            .add_body(&headers, &body)
            .map_err(IntoResponse::into_response)?;
        Ok(Req {
            caller,
            params,
            path,
        })
    }
}

/// Resolves `:id` for a caller. Private projects the caller is not a member
/// of are reported missing, never forbidden, as GitLab does.
pub(crate) fn project_id(store: &Store, key: &str, caller: &Caller) -> Result<u64, ApiError> {
    let project = store
        .find_project(key)
        .ok_or(ApiError::NotFound("Project"))?;
    if store.access_level(project.id, caller.user_id) == 0 {
        return Err(ApiError::NotFound("Project"));
    }
    Ok(project.id)
}

/// `authorize!`: 403 unless the caller has at least `level` in the project.
pub(crate) fn require(
    store: &Store,
    project: u64,
    caller: &Caller,
    level: u32,
) -> Result<(), ApiError> {
    if store.access_level(project, caller.user_id) >= level {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}
