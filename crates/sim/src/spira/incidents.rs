//! Incident get, create, update (optimistic concurrency) and delete
//! (reference §3.4-§3.6). Lists and searches are in `search.rs`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::Shared;
use super::auth::Caller;
use super::input::{self, parse_json};
use super::search;
use super::state::{ApiError, ApiResult, Db, SimIncident};
use labsync_model::text::spira_kept;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/projects/{project_id}/incidents",
            get(search::list).post(create),
        )
        .route("/projects/{project_id}/incidents/count", get(search::count))
        .route(
            "/projects/{project_id}/incidents/search",
            get(search::search_get).post(search::search_post),
        )
        .route(
            "/projects/{project_id}/incidents/recent",
            get(search::recent),
        )
        .route(
            "/projects/{project_id}/incidents/{incident_id}",
            get(get_one).put(update).delete(delete),
        )
}

/// The live incident `id` of `project`, or Spira's refusal.
pub(crate) fn find(db: &Db, project: u32, id: u32) -> ApiResult<&SimIncident> {
    let inc = db
        .incidents
        .get(&id)
        .filter(|i| !i.is_deleted)
        .ok_or_else(|| ApiError::not_found(format!("The incident IN:{id} does not exist")))?;
    if inc.project_id != project {
        // Spira answers 401 for an artifact of another project (SRV).
        return Err(ApiError::unauthorized(format!(
            "The incident IN:{id} does not belong to the project PR:{project}"
        )));
    }
    Ok(inc)
}

async fn get_one(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path((project, id)): Path<(u32, u32)>,
) -> ApiResult<Json<Value>> {
    let db = s.db();
    db.project_for(caller, project)?;
    let inc = find(&db, project, id)?;
    Ok(Json(db.incident_json(inc)))
}

/// Spira answers a create with the object it was sent plus the new id; it
/// does not read the incident back (reference §3.4).
async fn create(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path(project): Path<u32>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut sent: Value = parse_json(&body)?;
    let obj = input::object(&sent, "RemoteIncident")?;
    let now = s.now();
    let mut db = s.db();
    db.project_for(caller, project)?;
    let default_status = db.statuses.first().map(|l| l.id).unwrap_or(1);
    let default_type = db
        .types
        .iter()
        .find(|t| t.flag)
        .or(db.types.first())
        .map(|t| t.id)
        .unwrap_or(1);
    let mut inc = SimIncident {
        incident_id: 0,
        project_id: project,
        name: String::new(),
        description: String::new(),
        incident_status_id: default_status,
        incident_type_id: default_type,
        priority_id: None,
        severity_id: None,
        opener_id: caller,
        owner_id: None,
        detected_release_id: None,
        resolved_release_id: None,
        verified_release_id: None,
        creation_date: now,
        last_update_date: now,
        concurrency_date: now,
        start_date: None,
        closed_date: None,
        estimated_effort: None,
        actual_effort: None,
        remaining_effort: None,
        fixed_build_id: None,
        component_ids: input::ids(&obj, "ComponentIds")?,
        test_run_step_ids: Vec::new(),
        custom: Default::default(),
        is_deleted: false,
    };
    apply(&db, &mut inc, &obj)?;
    if let Some(o) = input::id(&obj, "OpenerId")? {
        inc.opener_id = o;
    }
    let stamp = db.stamp(now);
    inc.creation_date = input::date(&obj, "CreationDate")?.unwrap_or(stamp);
    inc.last_update_date = stamp;
    inc.concurrency_date = stamp;
    db.next_incident += 1;
    inc.incident_id = db.next_incident;
    let id = inc.incident_id;
    db.incidents.insert(id, inc);
    if let Some(map) = sent.as_object_mut() {
        map.insert("IncidentId".into(), json!(id));
        map.insert("ProjectId".into(), json!(project));
    }
    Ok(Json(sent))
}

/// A PUT replaces the incident; the id comes from the body, and a stale
/// ConcurrencyDate (compared as the string served) or a PUT that changes
/// nothing is refused with 409 (reference §3.5, §13 rows 4-5). Answers 200,
/// no body.
async fn update(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path((project, _path_id)): Path<(u32, u32)>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let sent: Value = parse_json(&body)?;
    let obj = input::object(&sent, "RemoteIncident")?;
    let id = input::id(&obj, "IncidentId")?
        .ok_or_else(|| ApiError::bad_request("The IncidentId of the incident must be set"))?;
    let now = s.now();
    let mut db = s.db();
    db.project_for(caller, project)?;
    let stored = find(&db, project, id)?.clone();
    let mut inc = stored.clone();
    if !input::concurrency_matches(&obj, &inc.concurrency_date)? {
        return Err(ApiError::conflict(
            "Another user has modified this incident since you last retrieved it \
             (OptimisticConcurrencyException). Retrieve it again and retry.",
        ));
    }
    apply(&db, &mut inc, &obj)?;
    // Changed only when sent; IncidentTypeId is handled in `apply`.
    if let Some(o) = input::id(&obj, "OpenerId")? {
        inc.opener_id = o;
    }
    if let Some(c) = input::date(&obj, "CreationDate")? {
        inc.creation_date = c;
    }
    if inc.incident_status_id != stored.incident_status_id {
        workflow_check(&db, &inc)?;
    }
    // API-Overview, "HTTP/1.1 409 Conflict": "This usually means either no
    // changes were made in this request, or …".
    if inc == stored {
        return Err(ApiError::conflict(
            "No changes were made to the incident: the request holds what is already saved",
        ));
    }
    let stamp = db.stamp(now);
    inc.last_update_date = stamp;
    inc.concurrency_date = stamp;
    db.incidents.insert(id, inc);
    Ok(StatusCode::OK)
}

/// Soft delete: the incident disappears from every read.
async fn delete(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path((project, id)): Path<(u32, u32)>,
) -> ApiResult<StatusCode> {
    let now = s.now();
    let mut db = s.db();
    db.project_for(caller, project)?;
    find(&db, project, id)?;
    let stamp = db.stamp(now);
    if let Some(inc) = db.incidents.get_mut(&id) {
        inc.is_deleted = true;
        inc.last_update_date = stamp;
        inc.concurrency_date = stamp;
    }
    Ok(StatusCode::OK)
}

/// The fields a create sets and a PUT replaces (null clears them), plus the
/// status (only when the template lets the API change it), test-run steps
/// (added, never removed) and custom properties (merged by number).
fn apply(db: &Db, inc: &mut SimIncident, obj: &Map<String, Value>) -> ApiResult<()> {
    inc.name = input::text(obj, "Name")?.unwrap_or_default();
    // Spira strips dangerous HTML (scripts, event attributes, javascript:
    // URLs) from what it is sent (RN v5 IN:3204; see `text::spira_kept`).
    inc.description = spira_kept(&input::text(obj, "Description")?.unwrap_or_default());
    inc.priority_id = checked(&db.priorities, input::id(obj, "PriorityId")?, "PriorityId")?;
    inc.severity_id = checked(&db.severities, input::id(obj, "SeverityId")?, "SeverityId")?;
    inc.owner_id = input::id(obj, "OwnerId")?;
    if let Some(owner) = inc.owner_id
        && db.user(owner).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "The user {owner} does not exist"
        )));
    }
    for (field, slot) in [
        ("DetectedReleaseId", &mut inc.detected_release_id),
        ("ResolvedReleaseId", &mut inc.resolved_release_id),
        ("VerifiedReleaseId", &mut inc.verified_release_id),
    ] {
        let value = input::id(obj, field)?;
        if let Some(r) = value
            && db
                .releases
                .get(&r)
                .is_none_or(|r| r.project_id != inc.project_id)
        {
            return Err(ApiError::bad_request(format!(
                "{field}: the release RL:{r} does not exist in this project"
            )));
        }
        *slot = value;
    }
    inc.start_date = input::date(obj, "StartDate")?;
    inc.closed_date = input::date(obj, "ClosedDate")?;
    inc.estimated_effort = input::int(obj, "EstimatedEffort")?;
    inc.actual_effort = input::int(obj, "ActualEffort")?;
    inc.remaining_effort = input::int(obj, "RemainingEffort")?;
    inc.fixed_build_id = input::id(obj, "FixedBuildId")?;
    if let Some(t) = checked(
        &db.types,
        input::id(obj, "IncidentTypeId")?,
        "IncidentTypeId",
    )? {
        inc.incident_type_id = t;
    }
    if db.bulk_edit_can_change_status
        && let Some(status) = checked(
            &db.statuses,
            input::id(obj, "IncidentStatusId")?,
            "IncidentStatusId",
        )?
    {
        inc.incident_status_id = status;
    }
    for step in input::ids(obj, "TestRunStepIds")? {
        if !inc.test_run_step_ids.contains(&step) {
            inc.test_run_step_ids.push(step);
        }
    }
    merge_custom(db, inc, obj)
}

fn checked(list: &[super::state::Lookup], id: Option<u32>, field: &str) -> ApiResult<Option<u32>> {
    match id {
        Some(id) if !list.iter().any(|l| l.id == id) => Err(ApiError::bad_request(format!(
            "{field}: {id} is not a valid value"
        ))),
        other => Ok(other),
    }
}

/// A workflow can require fields for a status; a change into that status
/// with one of them empty is refused, naming the field (spira-documentation
/// release notes v7, IN:9108: the v7 API applies the workflow's field states
/// on status changes). Which fields a template requires varies: the
/// simulator requires none unless told (`SpiraSim::require_for_status`).
fn workflow_check(db: &Db, inc: &SimIncident) -> ApiResult<()> {
    for (status, field) in &db.required_for_status {
        if *status != inc.incident_status_id {
            continue;
        }
        let empty = match field.as_str() {
            "Description" => inc.description.trim().is_empty(),
            "Name" => inc.name.trim().is_empty(),
            other => search::int_field(inc, other).is_none_or(|v| v.is_none()),
        };
        if empty {
            let status_name = Db::lookup_name(&db.statuses, Some(*status));
            return Err(ApiError::validation(
                field,
                format!(
                    "{field} is required for an incident with status {}",
                    status_name.as_str().unwrap_or("?")
                ),
            ));
        }
    }
    Ok(())
}

/// A Text value must come with its `Definition` (CustomPropertyId,
/// ProjectTemplateId, ArtifactTypeId): Inflectra/spira-documentation
/// `docs/Developers/API-Overview.md`, "Required Fields for Custom Property
/// type Text", and mcp-server-spira always sends `Definition.CustomPropertyId`.
/// The harder reading of "required": without it nothing is stored and the
/// write is refused as a validation fault naming the property.
fn text_definition(
    def: &super::state::SimCustomProperty,
    entry: &Map<String, Value>,
) -> ApiResult<()> {
    let field = format!("Custom_{:02}", def.property_number);
    let Some(sent) = input::get(entry, "Definition").and_then(Value::as_object) else {
        return Err(ApiError::validation(
            &field,
            format!(
                "{} needs its Definition (CustomPropertyId, ProjectTemplateId, ArtifactTypeId)",
                def.name
            ),
        ));
    };
    if input::id(sent, "CustomPropertyId")? != Some(def.custom_property_id) {
        return Err(ApiError::validation(
            &field,
            format!(
                "the Definition's CustomPropertyId is not that of {}",
                def.name
            ),
        ));
    }
    Ok(())
}

/// Entries are matched to definitions by PropertyNumber only; a definition
/// without an entry is left alone and a null value clears (reference §7).
fn merge_custom(db: &Db, inc: &mut SimIncident, obj: &Map<String, Value>) -> ApiResult<()> {
    let Some(entries) = input::get(obj, "CustomProperties") else {
        return Ok(());
    };
    let entries = entries
        .as_array()
        .ok_or_else(|| ApiError::bad_request("CustomProperties must be a list"))?;
    for entry in entries {
        let entry = input::object(entry, "RemoteArtifactCustomProperty")?;
        let Some(number) = input::id(&entry, "PropertyNumber")? else {
            continue;
        };
        let Some(def) = db
            .custom_properties
            .iter()
            .find(|p| p.property_number == number)
        else {
            continue;
        };
        let field = match def.type_id {
            1 | 9 => "StringValue",
            4 => "BooleanValue",
            5 | 11 => "DateTimeValue",
            3 => "DecimalValue",
            7 => "IntegerListValue",
            _ => "IntegerValue",
        };
        if def.type_id == 1 {
            text_definition(def, &entry)?;
        }
        match input::get(&entry, field) {
            None => {
                inc.custom.remove(&number);
            }
            Some(v) => {
                if field == "StringValue" && !v.is_string() {
                    return Err(ApiError::bad_request(format!(
                        "Custom_{number:02} ({}) needs a StringValue",
                        def.name
                    )));
                }
                inc.custom.insert(number, v.clone());
            }
        }
    }
    Ok(())
}
