use super::{limit, Page};
use crate::error::ApiError;
use crate::extract::{Json, Query};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chime_core::model::{Job, Occurrence, Schedule, ScheduleSpec};
use chime_store::{OccurrencesList, ScheduleList};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

pub async fn create(
    State(app): State<AppState>,
    Json(spec): Json<ScheduleSpec>,
) -> Result<impl IntoResponse, ApiError> {
    let schedule = app.service.schedule_create(spec).await?;
    Ok((StatusCode::CREATED, axum::Json(schedule)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    namespace: Option<String>,
    search: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

pub async fn list(
    State(app): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Page<Schedule>>, ApiError> {
    let limit = limit(q.limit)?;
    let items = app
        .store
        .schedules_list(ScheduleList {
            namespace: q.namespace,
            search: q.search,
            after_id: q.after,
            limit,
        })
        .await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|s| s.id.clone()))
        .flatten();
    Ok(axum::Json(Page { items, next }))
}

pub async fn get(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Schedule>, ApiError> {
    let schedule = app
        .store
        .schedules_get(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("schedule"))?;
    Ok(axum::Json(schedule))
}

/// JSON merge patch (RFC 7396) of the schedule's definition. A `version`
/// member makes the change conditional on the schedule's current version.
pub async fn patch(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Json(patch): Json<Value>,
) -> Result<axum::Json<Schedule>, ApiError> {
    file_owned(&id)?;
    let Value::Object(mut patch) = patch else {
        return Err(ApiError::invalid("", "the body must be a JSON object"));
    };
    let expected_version = match patch.remove("version") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| ApiError::invalid("version", "must be a positive integer"))?,
        ),
    };
    let current = app
        .store
        .schedules_get(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("schedule"))?;
    let mut doc =
        serde_json::to_value(&current.spec).map_err(|e| ApiError::invalid("", e.to_string()))?;
    merge(&mut doc, Value::Object(patch));
    let bytes = serde_json::to_vec(&doc).map_err(|e| ApiError::invalid("", e.to_string()))?;
    let spec: ScheduleSpec = crate::extract::parse(&bytes)?;
    Ok(axum::Json(
        app.service
            .schedule_replace(&id, expected_version, spec)
            .await?,
    ))
}

/// Schedules from the schedules file change only through the file.
fn file_owned(id: &str) -> Result<(), ApiError> {
    if chime_engine::declared::is_declared(id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "owned_by_file",
            "this schedule comes from the schedules file: change it there and reload (SIGHUP)",
        ));
    }
    Ok(())
}

fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p,
    }
}

pub async fn delete(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    file_owned(&id)?;
    app.service.schedule_delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn pause(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Schedule>, ApiError> {
    Ok(axum::Json(app.service.schedule_pause(&id).await?))
}

pub async fn resume(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Schedule>, ApiError> {
    Ok(axum::Json(app.service.schedule_resume(&id).await?))
}

pub async fn trigger(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, axum::Json<Job>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.service.schedule_trigger(&id).await?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    before: Option<Timestamp>,
    limit: Option<u32>,
}

pub async fn occurrences(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LedgerQuery>,
) -> Result<axum::Json<Page<Occurrence>>, ApiError> {
    let limit = limit(q.limit)?;
    if app.store.schedules_get(&id).await?.is_none() {
        return Err(ApiError::not_found("schedule"));
    }
    let items = app
        .store
        .occurrences_list(OccurrencesList {
            schedule_id: id,
            before: q.before,
            limit,
        })
        .await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|o| o.scheduled_for.to_string()))
        .flatten();
    Ok(axum::Json(Page { items, next }))
}
