use super::{limit, Page};
use crate::error::ApiError;
use crate::extract::{Json, Query};
use crate::wire::JobDetail;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chime_core::model::{Job, JobSpec, JobState};
use chime_store::JobsList;
use serde::Deserialize;

pub async fn enqueue(
    State(app): State<AppState>,
    Json(spec): Json<JobSpec>,
) -> Result<(StatusCode, axum::Json<Job>), ApiError> {
    let (job, duplicate) = app.service.job_enqueue(spec).await?;
    // A duplicate unique key returns the existing job.
    let status = if duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(job)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    namespace: Option<String>,
    queue: Option<String>,
    state: Option<String>,
    schedule_id: Option<String>,
    before: Option<String>,
    limit: Option<u32>,
}

pub async fn list(
    State(app): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Page<Job>>, ApiError> {
    let limit = limit(q.limit)?;
    let state = q
        .state
        .map(|s| {
            JobState::parse(&s).ok_or_else(|| {
                ApiError::invalid(
                    "state",
                    "must be pending, running, succeeded, dead or cancelled",
                )
            })
        })
        .transpose()?;
    let items = app
        .store
        .jobs_list(JobsList {
            namespace: q.namespace,
            queue: q.queue,
            state,
            schedule_id: q.schedule_id,
            before_id: q.before,
            limit,
        })
        .await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|j| j.id.clone()))
        .flatten();
    Ok(axum::Json(Page { items, next }))
}

pub async fn get(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<JobDetail>, ApiError> {
    let job = app
        .store
        .jobs_get(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("job"))?;
    let attempts = app.store.attempts_list(&id).await?;
    Ok(axum::Json(JobDetail {
        idempotency_key: job.idempotency_key(),
        job,
        attempts,
    }))
}

pub async fn cancel(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Job>, ApiError> {
    Ok(axum::Json(app.store.jobs_cancel(&id).await?))
}

pub async fn retry(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Job>, ApiError> {
    let job = app.store.jobs_retry(&id).await?;
    app.service.events.jobs_ready();
    Ok(axum::Json(job))
}

pub async fn delete(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if app.store.jobs_delete(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("job"))
    }
}
