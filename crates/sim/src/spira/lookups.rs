//! Projects, users, and the template lookups (reference §2, §5, §7, §8).

use std::sync::Arc;

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Shared;
use super::auth::Caller;
use super::state::{ApiError, ApiResult, Db, Lookup};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/projects", get(projects))
        .route("/projects/{project_id}", get(project))
        .route("/projects/{project_id}/users", get(project_users))
        .route("/users", get(current_user))
        .route("/users/{user_id}", get(user))
        .route("/users/usernames/{user_name}", get(user_by_name))
        .route(
            "/project-templates/{template_id}/incidents/{kind}",
            get(lookup),
        )
        .route(
            "/project-templates/{template_id}/incidents/{kind}/default",
            get(lookup_default),
        )
        .route(
            "/project-templates/{template_id}/custom-properties/{artifact_type_name}",
            get(custom_properties),
        )
}

fn project_json(db: &Db, id: u32) -> Option<Value> {
    let p = db.projects.iter().find(|p| p.project_id == id)?;
    Some(json!({
        "ProjectId": p.project_id,
        "ProjectTemplateId": p.template_id,
        "ProjectGroupId": 1,
        "Name": p.name,
        "Description": null,
        "Website": null,
        "CreationDate": crate::spira::dates::format(&p.creation_date),
        "Active": true,
        "WorkingHours": 8,
        "WorkingDays": 5,
        "NonWorkingHours": 0,
        "StartDate": null,
        "EndDate": null,
        "WorkspaceTypeId": 1,
        "Guid": format!("{{00000000-0000-0000-0000-{:012}}}", p.project_id),
        "ArtifactTypeId": -1,
        "CustomProperties": null,
    }))
}

async fn projects(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
) -> Json<Vec<Value>> {
    let db = s.db();
    let mine = db
        .projects
        .iter()
        .filter(|p| db.project_for(caller, p.project_id).is_ok())
        .filter_map(|p| project_json(&db, p.project_id))
        .collect();
    Json(mine)
}

async fn project(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path(id): Path<u32>,
) -> ApiResult<Json<Value>> {
    let db = s.db();
    db.project_for(caller, id)?;
    project_json(&db, id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("The project PR:{id} does not exist")))
}

async fn project_users(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path(id): Path<u32>,
) -> ApiResult<Json<Vec<Value>>> {
    let db = s.db();
    let p = db.project_for(caller, id)?;
    Ok(Json(
        p.members
            .iter()
            .filter_map(|m| db.user(*m))
            .filter(|u| u.active)
            .map(|u| db.user_json(u, Some(id)))
            .collect(),
    ))
}

async fn current_user(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    let db = s.db();
    let u = db
        .user(caller)
        .ok_or_else(|| ApiError::not_found("The user does not exist"))?;
    Ok(Json(db.user_json(u, None)))
}

async fn user(State(s): State<Arc<Shared>>, Path(id): Path<u32>) -> ApiResult<Json<Value>> {
    let db = s.db();
    let u = db
        .user(id)
        .ok_or_else(|| ApiError::not_found(format!("The user {id} does not exist")))?;
    Ok(Json(db.user_json(u, None)))
}

async fn user_by_name(
    State(s): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let db = s.db();
    let u = db
        .users
        .iter()
        .find(|u| u.login.eq_ignore_ascii_case(&name))
        .ok_or_else(|| ApiError::not_found(format!("The user '{name}' does not exist")))?;
    Ok(Json(db.user_json(u, None)))
}

fn check_template(db: &Db, template: u32) -> ApiResult<()> {
    if db.projects.iter().any(|p| p.template_id == template) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "The project template PT:{template} does not exist"
        )))
    }
}

fn lookup_json(kind: &str, l: &Lookup, position: usize) -> Option<Value> {
    let colors = ["f47457", "f29e56", "f5d857", "b4e9a4"];
    let color = colors.get(position).copied().unwrap_or("cccccc");
    Some(match kind {
        "statuses" => json!({
            "IncidentStatusId": l.id, "Name": l.name, "Active": true, "Open": l.flag,
            "Guid": null, "ConcurrencyGuid": null, "LastUpdateDate": null,
        }),
        "types" => json!({
            "IncidentTypeId": l.id, "Name": l.name, "Active": true,
            "Issue": l.name == "Issue", "Risk": l.name == "Risk",
            "WorkflowId": 1, "Default": l.flag,
        }),
        "priorities" => json!({
            "PriorityId": l.id, "Name": l.name, "Active": true, "Color": color,
            "Score": position as i64 + 1,
        }),
        "severities" => json!({
            "SeverityId": l.id, "Name": l.name, "Active": true, "Color": color,
            "Score": position as i64 + 1,
        }),
        _ => return None,
    })
}

fn list_for<'a>(db: &'a Db, kind: &str) -> ApiResult<&'a [Lookup]> {
    Ok(match kind {
        "statuses" => &db.statuses,
        "types" => &db.types,
        "priorities" => &db.priorities,
        "severities" => &db.severities,
        other => {
            return Err(ApiError::not_found(format!(
                "There is no incident lookup '{other}'"
            )));
        }
    })
}

async fn lookup(
    State(s): State<Arc<Shared>>,
    Path((template, kind)): Path<(u32, String)>,
) -> ApiResult<Json<Vec<Value>>> {
    let db = s.db();
    check_template(&db, template)?;
    let list = list_for(&db, &kind)?;
    Ok(Json(
        list.iter()
            .enumerate()
            .filter_map(|(i, l)| lookup_json(&kind, l, i))
            .collect(),
    ))
}

/// `statuses/default` and `types/default`.
async fn lookup_default(
    State(s): State<Arc<Shared>>,
    Path((template, kind)): Path<(u32, String)>,
) -> ApiResult<Json<Value>> {
    let db = s.db();
    check_template(&db, template)?;
    let found = match kind.as_str() {
        "statuses" => db.statuses.first(),
        "types" => db.types.iter().find(|t| t.flag),
        _ => None,
    };
    found
        .and_then(|l| lookup_json(&kind, l, 0))
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("There is no default for '{kind}'")))
}

async fn custom_properties(
    State(s): State<Arc<Shared>>,
    Path((template, artifact)): Path<(u32, String)>,
) -> ApiResult<Json<Vec<Value>>> {
    let db = s.db();
    check_template(&db, template)?;
    let known = [
        "requirement",
        "testcase",
        "incident",
        "release",
        "testrun",
        "task",
        "teststep",
        "testset",
        "automationhost",
        "document",
        "risk",
    ];
    let name = artifact.to_ascii_lowercase();
    if !known.contains(&name.as_str()) {
        return Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "The passed in 'artifact_type_name' doesn't match a valid artifact type",
        ));
    }
    if name != "incident" {
        return Ok(Json(Vec::new()));
    }
    Ok(Json(
        db.custom_properties
            .iter()
            .map(|p| db.definition_json(p))
            .collect(),
    ))
}
