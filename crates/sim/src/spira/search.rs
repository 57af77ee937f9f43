//! Incident lists and the filtered search (reference §3.1-§3.2): 1-based
//! `start_row`, at most 500 rows, ascending sort by `sort_by`, filters ANDed.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::Shared;
use super::auth::Caller;
use super::input::parse_json;
use super::state::{ApiError, ApiResult, SimIncident};
use crate::spira::dates;

pub(super) const MAX_ROWS: usize = 500;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Paging {
    pub(super) start_row: Option<String>,
    pub(super) number_rows: Option<String>,
    sort_by: Option<String>,
    creation_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RemoteFilter {
    pub(super) property_name: Option<String>,
    pub(super) int_value: Option<i64>,
    pub(super) string_value: Option<String>,
    multi_value: Option<MultiValue>,
    date_range_value: Option<DateRangeIn>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MultiValue {
    #[serde(default)]
    values: Vec<i64>,
    #[serde(default)]
    is_none: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DateRangeIn {
    start_date: Option<String>,
    end_date: Option<String>,
    #[serde(default)]
    consider_times: bool,
}

/// `GET projects/{p}/incidents`: the 500 most recently changed.
pub(crate) async fn list(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path(project): Path<u32>,
) -> ApiResult<Json<Vec<Value>>> {
    let db = s.db();
    db.project_for(caller, project)?;
    let mut rows: Vec<&SimIncident> = live(&db.incidents, project).collect();
    rows.sort_by_key(|i| std::cmp::Reverse(i.last_update_date));
    Ok(Json(
        rows.into_iter()
            .take(MAX_ROWS)
            .map(|i| db.incident_json(i))
            .collect(),
    ))
}

pub(crate) async fn count(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path(project): Path<u32>,
) -> ApiResult<Json<usize>> {
    let db = s.db();
    db.project_for(caller, project)?;
    Ok(Json(live(&db.incidents, project).count()))
}

pub(crate) async fn search_get(
    s: State<Arc<Shared>>,
    caller: Extension<Caller>,
    project: Path<u32>,
    Query(paging): Query<Paging>,
) -> ApiResult<Json<Vec<Value>>> {
    run(s, caller, project, paging, Vec::new()).await
}

pub(crate) async fn search_post(
    s: State<Arc<Shared>>,
    caller: Extension<Caller>,
    project: Path<u32>,
    Query(paging): Query<Paging>,
    body: Bytes,
) -> ApiResult<Json<Vec<Value>>> {
    run(s, caller, project, paging, filters_of(&body)?).await
}

/// A search body: `[RemoteFilter]`, null or nothing (no filter).
pub(super) fn filters_of(body: &Bytes) -> ApiResult<Vec<RemoteFilter>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    Ok(parse_json::<Option<Vec<RemoteFilter>>>(body)?.unwrap_or_default())
}

/// `GET …/incidents/recent`: new incidents only, CreationDate >= the date.
pub(crate) async fn recent(
    s: State<Arc<Shared>>,
    caller: Extension<Caller>,
    project: Path<u32>,
    Query(mut paging): Query<Paging>,
) -> ApiResult<Json<Vec<Value>>> {
    let since = paging.creation_date.take().unwrap_or_default();
    let filter = RemoteFilter {
        property_name: Some("CreationDate".into()),
        int_value: None,
        string_value: None,
        multi_value: None,
        date_range_value: Some(DateRangeIn {
            start_date: Some(since),
            end_date: None,
            consider_times: true,
        }),
    };
    paging.sort_by = Some("CreationDate".into());
    run(s, caller, project, paging, vec![filter]).await
}

async fn run(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path(project): Path<u32>,
    paging: Paging,
    filters: Vec<RemoteFilter>,
) -> ApiResult<Json<Vec<Value>>> {
    let start_row = number(&paging.start_row, "start_row")?.unwrap_or(1).max(1);
    let rows = number(&paging.number_rows, "number_rows")?
        .unwrap_or(MAX_ROWS)
        .min(MAX_ROWS);
    let sort_by = paging.sort_by.as_deref().unwrap_or("CreationDate");
    let db = s.db();
    db.project_for(caller, project)?;
    let mut found = Vec::new();
    for inc in live(&db.incidents, project) {
        if matches_all(inc, &filters, db.date_filter_offset)? {
            found.push(inc);
        }
    }
    let key = sort_key(sort_by)?;
    // Spira sorts ascending only (no sort_direction on this search).
    found.sort_by(|a, b| key(a, b).then(a.incident_id.cmp(&b.incident_id)));
    Ok(Json(
        found
            .into_iter()
            .skip(start_row - 1)
            .take(rows)
            .map(|i| db.incident_json(i))
            .collect(),
    ))
}

fn live(
    all: &std::collections::BTreeMap<u32, SimIncident>,
    project: u32,
) -> impl Iterator<Item = &SimIncident> {
    all.values()
        .filter(move |i| !i.is_deleted && i.project_id == project)
}

pub(super) fn number(value: &Option<String>, name: &str) -> ApiResult<Option<usize>> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("{name} must be a whole number"))),
    }
}

type Compare = fn(&SimIncident, &SimIncident) -> Ordering;

fn sort_key(field: &str) -> ApiResult<Compare> {
    Ok(match field {
        "CreationDate" => |a, b| a.creation_date.cmp(&b.creation_date),
        "LastUpdateDate" => |a, b| a.last_update_date.cmp(&b.last_update_date),
        "IncidentId" => |a, b| a.incident_id.cmp(&b.incident_id),
        "Name" => |a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()),
        "PriorityId" => |a, b| a.priority_id.cmp(&b.priority_id),
        "SeverityId" => |a, b| a.severity_id.cmp(&b.severity_id),
        "IncidentStatusId" => |a, b| a.incident_status_id.cmp(&b.incident_status_id),
        "ClosedDate" => |a, b| a.closed_date.cmp(&b.closed_date),
        other => {
            return Err(ApiError::bad_request(format!(
                "sort_by: '{other}' is not a field that incidents can be sorted by"
            )));
        }
    })
}

fn matches_all(
    inc: &SimIncident,
    filters: &[RemoteFilter],
    offset: chrono::Duration,
) -> ApiResult<bool> {
    for f in filters {
        if !matches(inc, f, offset)? {
            return Ok(false);
        }
    }
    Ok(true)
}

pub(super) fn int_field(inc: &SimIncident, name: &str) -> Option<Option<i64>> {
    let v = match name {
        "IncidentId" => Some(inc.incident_id),
        "IncidentStatusId" => Some(inc.incident_status_id),
        "IncidentTypeId" => Some(inc.incident_type_id),
        "PriorityId" => inc.priority_id,
        "SeverityId" => inc.severity_id,
        "OpenerId" => Some(inc.opener_id),
        "OwnerId" => inc.owner_id,
        "DetectedReleaseId" => inc.detected_release_id,
        "ResolvedReleaseId" => inc.resolved_release_id,
        "VerifiedReleaseId" => inc.verified_release_id,
        _ => return None,
    };
    Some(v.map(i64::from))
}

fn date_field(inc: &SimIncident, name: &str) -> Option<Option<DateTime<Utc>>> {
    Some(match name {
        "CreationDate" => Some(inc.creation_date),
        "LastUpdateDate" => Some(inc.last_update_date),
        "StartDate" => inc.start_date,
        "ClosedDate" => inc.closed_date,
        _ => return None,
    })
}

fn string_field(inc: &SimIncident, name: &str) -> Option<Option<String>> {
    if let Some(n) = name
        .strip_prefix("Custom_")
        .and_then(|n| n.parse::<u32>().ok())
    {
        return Some(inc.custom.get(&n).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }));
    }
    match name {
        "Description" => Some(Some(inc.description.clone())),
        _ => None,
    }
}

/// One filter. The first value set wins: Int, String, Multi, DateRange.
fn matches(inc: &SimIncident, f: &RemoteFilter, offset: chrono::Duration) -> ApiResult<bool> {
    let name = f
        .property_name
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("Every filter needs a PropertyName"))?;
    let unsupported = || {
        ApiError::bad_request(format!(
            "The filter on '{name}' is not supported with the value given"
        ))
    };
    if let Some(want) = f.int_value {
        let have = int_field(inc, name).ok_or_else(unsupported)?;
        // -999 stands for "no value".
        return Ok(if want == -999 {
            have.is_none()
        } else {
            have == Some(want)
        });
    }
    if let Some(want) = &f.string_value {
        let want = want.to_lowercase();
        if name == "Name" {
            // Keywords, each in the name or the description.
            let hay = format!("{} {}", inc.name, inc.description).to_lowercase();
            return Ok(want.split_whitespace().all(|w| hay.contains(w)));
        }
        let have = string_field(inc, name).ok_or_else(unsupported)?;
        // A case-insensitive substring match, not equality.
        return Ok(have.is_some_and(|h| h.to_lowercase().contains(&want)));
    }
    if let Some(multi) = &f.multi_value {
        let have = int_field(inc, name).ok_or_else(unsupported)?;
        return Ok(match have {
            None => multi.is_none,
            Some(v) => multi.values.contains(&v),
        });
    }
    if let Some(range) = &f.date_range_value {
        let have = date_field(inc, name).ok_or_else(unsupported)?;
        let Some(have) = have else { return Ok(false) };
        let bound = |b: &Option<String>| -> ApiResult<Option<DateTime<Utc>>> {
            match b.as_deref() {
                None | Some("") => Ok(None),
                // A server in another zone reads the bound as its local
                // time: 10:00Z at UTC-5 means 15:00Z.
                Some(t) => dates::parse(t)
                    .map(|d| Some(d - offset))
                    .ok_or_else(|| ApiError::bad_request(format!("'{t}' is not a valid date"))),
            }
        };
        let (start, end) = (bound(&range.start_date)?, bound(&range.end_date)?);
        // Inclusive at both ends; without ConsiderTimes only the dates count.
        let ok = if range.consider_times {
            start.is_none_or(|s| have >= s) && end.is_none_or(|e| have <= e)
        } else {
            let day = have.date_naive();
            start.is_none_or(|s| day >= s.date_naive()) && end.is_none_or(|e| day <= e.date_naive())
        };
        return Ok(ok);
    }
    // A filter with no value restricts nothing.
    Ok(true)
}
