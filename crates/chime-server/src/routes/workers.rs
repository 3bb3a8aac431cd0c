//! The pull API for external workers: claim (long poll), heartbeat,
//! complete, fail.

use crate::error::ApiError;
use crate::extract::Json;
use crate::wire::{Claimed, Lease, List};
use crate::AppState;
use axum::extract::{Path, State};
use chime_core::model::Job;
use chime_engine::pull::{Claim, Outcome};
use serde::Deserialize;

const DEFAULT_LEASE_MS: u64 = 30_000;

#[derive(Deserialize)]
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatBody {
    lease_token: String,
    #[serde(default = "default_lease")]
    lease_ms: u64,
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    lease_token: String,
    /// Kept with the attempt (bounded by the store).
    #[serde(default)]
    output: Option<String>,
}

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

#[derive(Deserialize)]
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
