//! Releases (reference §6): list, search, count, get, create (at the root
//! or under a parent), and update by PUT on the collection with the id in
//! the body.
//!
//! As the v7.0 OpenAPI file shipped with Inflectra/mcp-server-spira
//! (`SpiraRestAPI-v7.0-OpenAPI.json`) says, `GET projects/{p}/releases`
//! "does not include iterations" (`Release_Retrieve1`); `POST
//! …/releases/search` and `…/releases/count` see every release. Its
//! `RemoteRelease` has `ReleaseTypeId` and `ReleaseStatusId` as non-nullable
//! integers, and every Inflectra client sets both on a create (the GitLab
//! data-sync `DataSync.cs`: type 3 "is an iteration"; mcp-server-spira
//! defaults 3 and 1): a create without them is refused as a validation fault.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::Shared;
use super::auth::Caller;
use super::input::{self, parse_json};
use super::search::{MAX_ROWS, Paging, RemoteFilter, filters_of, number};
use super::state::{ApiError, ApiResult, Db, RELEASE_STATUSES, RELEASE_TYPES, SimRelease};

/// Release type 3: an iteration (sprint).
pub(crate) const ITERATION: u32 = 3;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/projects/{project_id}/releases",
            get(list).post(create_root).put(update),
        )
        .route(
            "/projects/{project_id}/releases/search",
            axum::routing::post(search),
        )
        .route(
            "/projects/{project_id}/releases/count",
            axum::routing::post(count),
        )
        .route(
            "/projects/{project_id}/releases/{release_id}",
            get(get_one).post(create_child),
        )
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    active_only: Option<String>,
}

async fn list(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path(project): Path<u32>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<Value>>> {
    let active_only = q
        .active_only
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let db = s.db();
    db.project_for(caller, project)?;
    Ok(Json(
        db.releases
            .values()
            .filter(|r| r.project_id == project && (r.active || !active_only))
            // Release_Retrieve1: "Does not include iterations".
            .filter(|r| r.release_type_id != ITERATION)
            .map(|r| db.release_json(r))
            .collect(),
    ))
}

/// Every release of the project the filters accept, iterations included.
fn matching<'a>(
    db: &'a Db,
    project: u32,
    filters: &[RemoteFilter],
) -> ApiResult<Vec<&'a SimRelease>> {
    let mut found = Vec::new();
    for r in db.releases.values().filter(|r| r.project_id == project) {
        if filters
            .iter()
            .map(|f| release_matches(r, f))
            .collect::<ApiResult<Vec<bool>>>()?
            .into_iter()
            .all(|ok| ok)
        {
            found.push(r);
        }
    }
    Ok(found)
}

/// The filters a release search understands: ids by IntValue, Name and
/// VersionNumber as case-insensitive substrings (as for incidents, §3.2).
fn release_matches(r: &SimRelease, f: &RemoteFilter) -> ApiResult<bool> {
    let name = f.property_name.as_deref().unwrap_or("");
    if let Some(want) = f.int_value {
        let have = match name {
            "ReleaseId" => r.release_id,
            "ReleaseTypeId" => r.release_type_id,
            "ReleaseStatusId" => r.release_status_id,
            _ => return Err(unsupported(name)),
        };
        return Ok(i64::from(have) == want);
    }
    if let Some(want) = &f.string_value {
        let have = match name {
            "Name" => &r.name,
            "VersionNumber" => &r.version_number,
            _ => return Err(unsupported(name)),
        };
        return Ok(have.to_lowercase().contains(&want.to_lowercase()));
    }
    Ok(true)
}

fn unsupported(name: &str) -> ApiError {
    ApiError::bad_request(format!(
        "The filter on '{name}' is not supported with the value given"
    ))
}

/// `POST projects/{p}/releases/search?start_row&number_rows`, body `[RemoteFilter]`.
async fn search(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path(project): Path<u32>,
    Query(paging): Query<Paging>,
    body: Bytes,
) -> ApiResult<Json<Vec<Value>>> {
    let filters = filters_of(&body)?;
    let start_row = number(&paging.start_row, "start_row")?.unwrap_or(1).max(1);
    let rows = number(&paging.number_rows, "number_rows")?
        .unwrap_or(MAX_ROWS)
        .min(MAX_ROWS);
    let db = s.db();
    db.project_for(caller, project)?;
    Ok(Json(
        matching(&db, project, &filters)?
            .into_iter()
            .skip(start_row - 1)
            .take(rows)
            .map(|r| db.release_json(r))
            .collect(),
    ))
}

/// `POST projects/{p}/releases/count`, body `[RemoteFilter]`: an integer.
async fn count(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path(project): Path<u32>,
    body: Bytes,
) -> ApiResult<Json<usize>> {
    let filters = filters_of(&body)?;
    let db = s.db();
    db.project_for(caller, project)?;
    Ok(Json(matching(&db, project, &filters)?.len()))
}

fn find(db: &Db, project: u32, id: u32) -> ApiResult<&SimRelease> {
    db.releases
        .get(&id)
        .filter(|r| r.project_id == project)
        .ok_or_else(|| ApiError::not_found(format!("The release RL:{id} does not exist")))
}

async fn get_one(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path((project, id)): Path<(u32, u32)>,
) -> ApiResult<Json<Value>> {
    let db = s.db();
    db.project_for(caller, project)?;
    Ok(Json(db.release_json(find(&db, project, id)?)))
}

async fn create_root(
    s: State<Arc<Shared>>,
    caller: Extension<Caller>,
    Path(project): Path<u32>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    create(s, caller, project, None, body).await
}

async fn create_child(
    s: State<Arc<Shared>>,
    caller: Extension<Caller>,
    Path((project, parent)): Path<(u32, u32)>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    create(s, caller, project, Some(parent), body).await
}

async fn create(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    project: u32,
    parent: Option<u32>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let sent: Value = parse_json(&body)?;
    let obj = input::object(&sent, "RemoteRelease")?;
    let now = s.now();
    let mut db = s.db();
    db.project_for(caller, project)?;
    if let Some(p) = parent {
        find(&db, project, p)?;
    }
    let stamp = db.stamp(now);
    let mut release = SimRelease {
        release_id: 0,
        project_id: project,
        parent_id: parent,
        name: String::new(),
        description: None,
        version_number: String::new(),
        active: false,
        release_status_id: 1,
        release_type_id: 1,
        creator_id: input::id(&obj, "CreatorId")?.unwrap_or(caller),
        owner_id: None,
        start_date: stamp,
        end_date: stamp,
        creation_date: stamp,
        last_update_date: stamp,
        concurrency_date: stamp,
    };
    for field in ["ReleaseTypeId", "ReleaseStatusId"] {
        if input::id(&obj, field)?.is_none() {
            return Err(ApiError::validation(
                field,
                format!("{field} is required to create a release"),
            ));
        }
    }
    apply(&mut release, &obj)?;
    db.next_release += 1;
    release.release_id = db.next_release;
    let mut json = db.release_json(&release);
    if db.created_release_id_withheld {
        json["ReleaseId"] = serde_json::Value::Null;
    }
    db.releases.insert(release.release_id, release);
    Ok(Json(json))
}

async fn update(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path(project): Path<u32>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let sent: Value = parse_json(&body)?;
    let obj = input::object(&sent, "RemoteRelease")?;
    let id = input::id(&obj, "ReleaseId")?
        .ok_or_else(|| ApiError::bad_request("The ReleaseId of the release must be set"))?;
    let now = s.now();
    let mut db = s.db();
    db.project_for(caller, project)?;
    let mut release = find(&db, project, id)?.clone();
    if !input::concurrency_matches(&obj, &release.concurrency_date)? {
        return Err(ApiError::conflict(
            "Another user has modified this release since you last retrieved it",
        ));
    }
    apply(&mut release, &obj)?;
    let stamp = db.stamp(now);
    release.last_update_date = stamp;
    release.concurrency_date = stamp;
    db.releases.insert(id, release);
    Ok(StatusCode::OK)
}

/// The writable fields. Name, StartDate and EndDate are required (the last
/// two are non-null in Spira); a missing `Active` reads as false, as in .NET.
fn apply(r: &mut SimRelease, obj: &Map<String, Value>) -> ApiResult<()> {
    r.name = input::text(obj, "Name")?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("A release needs a Name"))?;
    r.description = input::text(obj, "Description")?;
    r.version_number = input::text(obj, "VersionNumber")?.unwrap_or_default();
    r.active = input::get(obj, "Active")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let Some(status) = input::id(obj, "ReleaseStatusId")? {
        if !RELEASE_STATUSES.iter().any(|(id, _)| *id == status) {
            return Err(ApiError::bad_request(format!(
                "ReleaseStatusId {status} is not valid"
            )));
        }
        r.release_status_id = status;
    }
    if let Some(kind) = input::id(obj, "ReleaseTypeId")? {
        if !RELEASE_TYPES.iter().any(|(id, _)| *id == kind) {
            return Err(ApiError::bad_request(format!(
                "ReleaseTypeId {kind} is not valid"
            )));
        }
        r.release_type_id = kind;
    }
    r.owner_id = input::id(obj, "OwnerId")?;
    r.start_date = input::date(obj, "StartDate")?
        .ok_or_else(|| ApiError::bad_request("A release needs a StartDate"))?;
    r.end_date = input::date(obj, "EndDate")?
        .ok_or_else(|| ApiError::bad_request("A release needs an EndDate"))?;
    if r.end_date < r.start_date {
        return Err(ApiError::bad_request(
            "The EndDate of a release must not be before its StartDate",
        ));
    }
    Ok(())
}
