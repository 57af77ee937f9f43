//! Request parameters from the query string and the body, read the way Grape
//! reads them: a JSON or form body, `key[]=a&key[]=b` or `key=a,b` for arrays,
//! strings or numbers for integers.

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::reply::ApiError;

/// Parameters of one request, query first, then body.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params {
    /// Pairs in request order, array keys kept with their `[]`.
    pairs: Vec<(String, Value)>,
}

impl Params {
    pub(crate) fn from_query(query: Option<&str>) -> Self {
        let mut params = Params::default();
        if let Some(q) = query {
            for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
                params
                    .pairs
                    .push((k.into_owned(), Value::String(v.into_owned())));
            }
        }
        params
    }

    /// Adds the body's parameters: JSON object, or form-encoded.
    pub(crate) fn add_body(&mut self, headers: &HeaderMap, body: &Bytes) -> Result<(), ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let is_json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("json"));
        if is_json {
            let value: Value = serde_json::from_slice(body)
                .map_err(|_| ApiError::BadRequest("Invalid JSON".into()))?;
            let Value::Object(map) = value else {
                return Err(ApiError::BadRequest("Invalid JSON".into()));
            };
            self.pairs.extend(map);
        } else {
            for (k, v) in url::form_urlencoded::parse(body) {
                self.pairs
                    .push((k.into_owned(), Value::String(v.into_owned())));
            }
        }
        Ok(())
    }

    /// The query pairs that are not paging ones, sorted by key like Rails'
    /// `to_query`, for Link headers. Never the token.
    pub(crate) fn link_pairs(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .pairs
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "page" | "per_page" | "private_token"))
            .map(|(k, v)| (k.clone(), as_text(v)))
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs
    }

    fn raw(&self, key: &str) -> Option<&Value> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.raw(key).is_some() || self.pairs.iter().any(|(k, _)| k == &format!("{key}[]"))
    }

    /// A string value; `null` counts as absent.
    pub(crate) fn str(&self, key: &str) -> Option<String> {
        match self.raw(key)? {
            Value::Null => None,
            v => Some(as_text(v)),
        }
    }

    pub(crate) fn int(&self, key: &str) -> Result<Option<u64>, ApiError> {
        match self.raw(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| invalid(key)),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| invalid(key)),
            Some(_) => Err(invalid(key)),
        }
    }

    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.raw(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => match as_text(v).as_str() {
                "true" | "1" | "t" | "yes" => Ok(Some(true)),
                "false" | "0" | "f" | "no" => Ok(Some(false)),
                _ => Err(invalid(key)),
            },
        }
    }

    /// An array: `key[]` repeated, a JSON array, or a comma-separated string.
    pub(crate) fn list(&self, key: &str) -> Option<Vec<String>> {
        let bracket = format!("{key}[]");
        let mut items: Vec<String> = Vec::new();
        let mut found = false;
        for (k, v) in &self.pairs {
            if *k == bracket || *k == key {
                found = true;
                match v {
                    Value::Array(values) => items.extend(values.iter().map(as_text)),
                    Value::Null => {}
                    other => items.extend(
                        as_text(other)
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string),
                    ),
                }
            }
        }
        found.then_some(items)
    }

    pub(crate) fn int_list(&self, key: &str) -> Result<Option<Vec<u64>>, ApiError> {
        let Some(items) = self.list(key) else {
            return Ok(None);
        };
        items
            .iter()
            .map(|s| s.parse().map_err(|_| invalid(key)))
            .collect::<Result<Vec<u64>, _>>()
            .map(Some)
    }

    pub(crate) fn time(&self, key: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        let Some(text) = self.str(key) else {
            return Ok(None);
        };
        parse_time(&text).map(Some).ok_or_else(|| invalid(key))
    }

    pub(crate) fn date(&self, key: &str) -> Result<Option<NaiveDate>, ApiError> {
        match self.str(key) {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| invalid(key)),
        }
    }

    /// Grape's `values:` check.
    pub(crate) fn one_of(&self, key: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        match self.str(key) {
            None => Ok(None),
            Some(v) if allowed.contains(&v.as_str()) => Ok(Some(v)),
            Some(_) => Err(ApiError::Param(format!(
                "{key} does not have a valid value"
            ))),
        }
    }

    /// Grape's `requires` on a string.
    pub(crate) fn required(&self, key: &str) -> Result<String, ApiError> {
        match self.str(key) {
            Some(v) if !v.trim().is_empty() => Ok(v),
            Some(_) => Err(ApiError::Param(format!("{key} is empty"))),
            None => Err(ApiError::Param(format!("{key} is missing"))),
        }
    }
}

fn invalid(key: &str) -> ApiError {
    ApiError::Param(format!("{key} is invalid"))
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(as_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// ISO 8601 with or without fraction and offset, or a bare date.
pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_in_all_three_forms() {
        let p = Params::from_query(Some("iids%5B%5D=1&iids%5B%5D=2&labels=a,b"));
        assert_eq!(p.int_list("iids").unwrap(), Some(vec![1, 2]));
        assert_eq!(p.list("labels"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(p.list("missing"), None);
    }

    #[test]
    fn times_with_and_without_fraction() {
        assert!(parse_time("2024-01-02T03:04:05.123Z").is_some());
        assert!(parse_time("2024-01-02T03:04:05+02:00").is_some());
        assert!(parse_time("2024-01-02").is_some());
        assert!(parse_time("yesterday").is_none());
    }
}
