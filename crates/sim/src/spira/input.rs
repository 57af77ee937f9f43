//! Reading request bodies the way Spira's deserializer does: absent and
//! `null` are the same (no value), dates without an offset are UTC.

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::state::{ApiError, ApiResult, concurrency_token, to_millis};
use crate::spira::dates;

pub(crate) fn parse_json<T: DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("The request body is empty"));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("The request body could not be read: {e}")))
}

pub(crate) fn object(value: &Value, what: &str) -> ApiResult<Map<String, Value>> {
    value
        .as_object()
        .cloned()
        .ok_or_else(|| ApiError::bad_request(format!("The request body must be a {what} object")))
}

/// The field's value, `None` when absent or null.
pub(crate) fn get<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

pub(crate) fn id(obj: &Map<String, Value>, name: &str) -> ApiResult<Option<u32>> {
    match get(obj, name) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("{name} must be a whole number"))),
    }
}

pub(crate) fn int(obj: &Map<String, Value>, name: &str) -> ApiResult<Option<i64>> {
    match get(obj, name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("{name} must be a whole number"))),
    }
}

pub(crate) fn text(obj: &Map<String, Value>, name: &str) -> ApiResult<Option<String>> {
    match get(obj, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_request(format!("{name} must be a string"))),
    }
}

pub(crate) fn date(obj: &Map<String, Value>, name: &str) -> ApiResult<Option<DateTime<Utc>>> {
    match get(obj, name) {
        None => Ok(None),
        Some(Value::String(s)) => dates::parse(s)
            .map(|d| Some(to_millis(d)))
            .ok_or_else(|| ApiError::bad_request(format!("{name} is not a valid date: '{s}'"))),
        Some(_) => Err(ApiError::bad_request(format!(
            "{name} must be a date string"
        ))),
    }
}

/// Whether the ConcurrencyDate sent is, as a string, the one last served.
pub(crate) fn concurrency_matches(
    obj: &Map<String, Value>,
    stored: &DateTime<Utc>,
) -> ApiResult<bool> {
    Ok(text(obj, "ConcurrencyDate")?.as_deref() == Some(concurrency_token(stored).as_str()))
}

pub(crate) fn ids(obj: &Map<String, Value>, name: &str) -> ApiResult<Vec<u32>> {
    match get(obj, name) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| ApiError::bad_request(format!("{name} must hold whole numbers")))
            })
            .collect(),
        Some(_) => Err(ApiError::bad_request(format!("{name} must be a list"))),
    }
}
