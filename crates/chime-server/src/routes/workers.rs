//! The pull API for external workers: claim (long poll), heartbeat,
//! complete, fail.

use crate::error::ApiError;
use crate::extract::Json;
use crate::openapi::Refusals;
use crate::wire::{Claimed, Lease, List};
use crate::AppState;
use axum::extract::{Path, State};
use chime_core::model::Job;
use chime_engine::pull::{Claim, Outcome};
use serde::Deserialize;
use utoipa::ToSchema;

const DEFAULT_LEASE_MS: u64 = 30_000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// Who is claiming: shown on the job and its attempts.
    worker: String,
    #[serde(default = "one")]
    limit: u32,
    #[serde(default = "default_lease")]
    lease_ms: u64,
    #[serde(default)]
    wait_ms: u64,
}

fn one() -> u32 {
    1
}

fn default_lease() -> u64 {
    DEFAULT_LEASE_MS
}

/// Claim up to `limit` due jobs of a queue, waiting up to `wait_ms` for one.
#[utoipa::path(post, path = "/api/v1/queues/{queue}/claim", tag = "workers", params(("queue" = String, Path)),
    request_body = ClaimBody,
    responses((status = 200, description = "The jobs claimed (maybe none)", body = List<Claimed>), Refusals))]
pub async fn claim(
    State(app): State<AppState>,
    Path(queue): Path<String>,
    Json(b): Json<ClaimBody>,
) -> Result<axum::Json<List<Claimed>>, ApiError> {
    let claimed = app
        .service
        .jobs_claim_external(Claim {
            queue,
            worker: b.worker,
            limit: b.limit,
            lease_ms: b.lease_ms,
            wait_ms: b.wait_ms,
        })
        .await?;
    let items = claimed
        .into_iter()
        .map(|c| {
            let mut job = c.job;
            job.lease_expires_at = Some(c.lease_expires_at);
            Claimed {
                idempotency_key: job.idempotency_key(),
                job,
                lease_token: c.lease_token,
            }
        })
        .collect();
    Ok(axum::Json(List { items }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatBody {
    lease_token: String,
    #[serde(default = "default_lease")]
    lease_ms: u64,
}

/// Extend the lease of a claimed job.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/heartbeat", tag = "workers", params(("id" = String, Path)),
    request_body = HeartbeatBody,
    responses((status = 200, description = "The new lease expiry", body = Lease), Refusals))]
pub async fn heartbeat(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Json(b): Json<HeartbeatBody>,
) -> Result<axum::Json<Lease>, ApiError> {
    let lease_expires_at = app
        .service
        .job_heartbeat(&id, &b.lease_token, b.lease_ms)
        .await?;
    Ok(axum::Json(Lease { lease_expires_at }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    lease_token: String,
    /// Kept with the attempt (bounded by the store).
    #[serde(default)]
    output: Option<String>,
}

/// Record success of a claimed job.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/complete", tag = "workers", params(("id" = String, Path)),
    request_body = CompleteBody,
    responses((status = 200, description = "The job", body = Job), Refusals))]
pub async fn complete(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Json(b): Json<CompleteBody>,
) -> Result<axum::Json<Job>, ApiError> {
    let outcome = Outcome::Succeeded { output: b.output };
    Ok(axum::Json(
        app.service
            .job_finish_external(&id, &b.lease_token, outcome)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FailBody {
    lease_token: String,
    error: String,
    /// false: the job is dead at once, whatever attempts are left.
    #[serde(default = "yes")]
    retry: bool,
    /// Overrides the job's backoff for this retry.
    #[serde(default)]
    retry_after_ms: Option<u64>,
}

fn yes() -> bool {
    true
}

/// Record failure of a claimed job: retried with backoff, or dead.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/fail", tag = "workers", params(("id" = String, Path)),
    request_body = FailBody,
    responses((status = 200, description = "The job", body = Job), Refusals))]
pub async fn fail(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Json(b): Json<FailBody>,
) -> Result<axum::Json<Job>, ApiError> {
    let outcome = Outcome::Failed {
        error: b.error,
        retry: b.retry,
        retry_after_ms: b.retry_after_ms,
    };
    Ok(axum::Json(
        app.service
            .job_finish_external(&id, &b.lease_token, outcome)
            .await?,
    ))
}
