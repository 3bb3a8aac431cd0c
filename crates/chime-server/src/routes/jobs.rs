use super::{limit, Page};
use crate::error::ApiError;
use crate::extract::{Json, Query};
use crate::openapi::Refusals;
use crate::wire::JobDetail;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chime_core::model::{Job, JobSpec, JobState};
use chime_store::JobsList;
use serde::Deserialize;
use utoipa::IntoParams;

/// Enqueue a job; a duplicate `unique_key` returns the existing job (200).
#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs", request_body = JobSpec,
    responses((status = 201, description = "Enqueued", body = Job),
              (status = 200, description = "An active job holds the unique key: that job", body = Job), Refusals))]
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

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    namespace: Option<String>,
    queue: Option<String>,
    /// pending, running, succeeded, dead or cancelled.
    state: Option<String>,
    /// Jobs fired by this schedule.
    schedule_id: Option<String>,
    /// The `next` cursor of the previous page.
    before: Option<String>,
    /// 1 to 500 (default 50).
    limit: Option<u32>,
}

/// List jobs, newest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(ListQuery),
    responses((status = 200, description = "One page", body = Page<Job>), Refusals))]
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
    Ok(axum::Json(Page::of(items, limit, |j| j.id.clone())))
}

/// One job with its attempts.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, description = "The job", body = JobDetail), Refusals))]
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

/// Cancel a pending or running job.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, description = "The cancelled job", body = Job), Refusals))]
pub async fn cancel(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Job>, ApiError> {
    Ok(axum::Json(app.store.jobs_cancel(&id).await?))
}

/// Run a finished job again now.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, description = "The job, pending again", body = Job), Refusals))]
pub async fn retry(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Job>, ApiError> {
    let job = app.store.jobs_retry(&id).await?;
    app.service.events.jobs_ready();
    Ok(axum::Json(job))
}

/// Delete a job that is not running, with its attempts.
#[utoipa::path(delete, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), Refusals))]
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
