use super::{limit, Page};
use crate::error::ApiError;
use crate::extract::{Json, Query};
use crate::openapi::Refusals;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chime_core::model::{Job, Occurrence, Schedule, ScheduleSpec};
use chime_store::{OccurrencesList, ScheduleList};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

/// Create a schedule.
#[utoipa::path(post, path = "/api/v1/schedules", tag = "schedules", request_body = ScheduleSpec,
    responses((status = 201, description = "Created", body = Schedule), Refusals))]
pub async fn create(
    State(app): State<AppState>,
    Json(spec): Json<ScheduleSpec>,
) -> Result<impl IntoResponse, ApiError> {
    let schedule = app.service.schedule_create(spec).await?;
    Ok((StatusCode::CREATED, axum::Json(schedule)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this namespace.
    namespace: Option<String>,
    /// Names containing this text.
    search: Option<String>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// 1 to 500 (default 50).
    limit: Option<u32>,
}

/// List schedules, by id.
#[utoipa::path(get, path = "/api/v1/schedules", tag = "schedules", params(ListQuery),
    responses((status = 200, description = "One page", body = Page<Schedule>), Refusals))]
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
    Ok(axum::Json(Page::of(items, limit, |s| s.id.clone())))
}

/// One schedule.
#[utoipa::path(get, path = "/api/v1/schedules/{id}", tag = "schedules", params(("id" = String, Path)),
    responses((status = 200, description = "The schedule", body = Schedule), Refusals))]
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
#[utoipa::path(patch, path = "/api/v1/schedules/{id}", tag = "schedules", params(("id" = String, Path)),
    request_body(content = Object, description = "A JSON merge patch of the definition; `version` makes it conditional"),
    responses((status = 200, description = "The changed schedule", body = Schedule), Refusals))]
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

/// Delete a schedule (its jobs stay).
#[utoipa::path(delete, path = "/api/v1/schedules/{id}", tag = "schedules", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), Refusals))]
pub async fn delete(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    file_owned(&id)?;
    app.service.schedule_delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stop firing until resumed.
#[utoipa::path(post, path = "/api/v1/schedules/{id}/pause", tag = "schedules", params(("id" = String, Path)),
    responses((status = 200, description = "The paused schedule", body = Schedule), Refusals))]
pub async fn pause(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Schedule>, ApiError> {
    Ok(axum::Json(app.service.schedule_pause(&id).await?))
}

/// Fire again from the next instant; fires due while paused are skipped.
#[utoipa::path(post, path = "/api/v1/schedules/{id}/resume", tag = "schedules", params(("id" = String, Path)),
    responses((status = 200, description = "The resumed schedule", body = Schedule), Refusals))]
pub async fn resume(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Schedule>, ApiError> {
    Ok(axum::Json(app.service.schedule_resume(&id).await?))
}

/// Make one job now, outside the schedule's times.
#[utoipa::path(post, path = "/api/v1/schedules/{id}/trigger", tag = "schedules", params(("id" = String, Path)),
    responses((status = 201, description = "The job made", body = Job), Refusals))]
pub async fn trigger(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, axum::Json<Job>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.service.schedule_trigger(&id).await?),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// Entries scheduled before this instant (the `next` cursor).
    #[param(value_type = Option<String>, format = DateTime)]
    before: Option<Timestamp>,
    /// 1 to 500 (default 50).
    limit: Option<u32>,
}

/// The occurrence ledger: what became of each fire instant, newest first.
#[utoipa::path(get, path = "/api/v1/schedules/{id}/occurrences", tag = "schedules",
    params(("id" = String, Path), LedgerQuery),
    responses((status = 200, description = "One page", body = Page<Occurrence>), Refusals))]
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
    Ok(axum::Json(Page::of(items, limit, |o| {
        o.scheduled_for.to_string()
    })))
}
