//! External workers (DESIGN §6): a program in any language claims jobs of a
//! queue over HTTP, heartbeats while it works, then completes or fails
//! them. Leases, fencing and the retry policy are the built-in workers'.

use crate::service::{Service, ServiceError};
use crate::worker::retry_or_dead;
use chime_core::model::{validate, AttemptOutcome, FieldError};
use chime_store::{
    ClaimedJob, Completion, JobCompletion, JobsClaim, JobsComplete, JobsHeartbeat, StoreError,
};
use jiff::{SignedDuration, Timestamp};
use std::time::Duration;

/// Longest a claim may wait for a job.
pub const MAX_WAIT_MS: u64 = 30_000;
/// A job that becomes due without a wake-up (its `run_at` passed) is seen
/// within this.
const POLL: Duration = Duration::from_millis(200);

#[derive(Debug, Clone)]
pub struct Claim {
    pub queue: String,
    pub worker: String,
    pub limit: u32,
    pub lease_ms: u64,
    pub wait_ms: u64,
}

/// How an external attempt ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Succeeded {
        output: Option<String>,
    },
    Failed {
        error: String,
        /// false: dead at once, whatever attempts are left.
        retry: bool,
        retry_after_ms: Option<u64>,
    },
}

impl Service {
    /// Claims up to `limit` due jobs of one queue, waiting up to `wait_ms`
    /// for one to arrive (long poll). Empty when none came.
    pub async fn jobs_claim_external(&self, c: Claim) -> Result<Vec<ClaimedJob>, ServiceError> {
        validate::name("queue", &c.queue)?;
        if c.worker.is_empty() || c.worker.len() > 128 {
            return Err(FieldError::new("worker", "must be 1 to 128 characters").into());
        }
        validate::range("limit", u64::from(c.limit), 1, 100)?;
        validate::range("lease_ms", c.lease_ms, 1_000, 3_600_000)?;
        validate::range("wait_ms", c.wait_ms, 0, MAX_WAIT_MS)?;
        let deadline = tokio::time::Instant::now() + Duration::from_millis(c.wait_ms);
        let ready = self.events.jobs_ready_signal();
        loop {
            // Armed before the claim, so a wake-up during it is not lost.
            let woken = ready.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let claimed = self
                .store
                .jobs_claim(JobsClaim {
                    queues: vec![c.queue.clone()],
                    due_by: None,
                    due_after: None,
                    limit: c.limit,
                    worker: c.worker.clone(),
                    lease: SignedDuration::from_millis(c.lease_ms as i64),
                    now: None,
                })
                .await?;
            let now = tokio::time::Instant::now();
            if !claimed.is_empty() || now >= deadline {
                return Ok(claimed);
            }
            tokio::select! {
                _ = woken => {}
                _ = tokio::time::sleep(POLL.min(deadline - now)) => {}
            }
        }
    }

    /// Extends the lease of a running job; `LeaseLost` (409) when the lease
    /// expired and the job went to someone else, or it was cancelled.
    pub async fn job_heartbeat(
        &self,
        id: &str,
        lease_token: &str,
        lease_ms: u64,
    ) -> Result<Timestamp, ServiceError> {
        validate::range("lease_ms", lease_ms, 1_000, 3_600_000)?;
        Ok(self
            .store
            .jobs_heartbeat(JobsHeartbeat {
                job_id: id.to_string(),
                lease_token: lease_token.to_string(),
                extend: SignedDuration::from_millis(lease_ms as i64),
                now: None,
            })
            .await?)
    }

    /// Records how an external attempt ended, under its lease.
    pub async fn job_finish_external(
        &self,
        id: &str,
        lease_token: &str,
        outcome: Outcome,
    ) -> Result<chime_core::model::Job, ServiceError> {
        let job = self
            .store
            .jobs_get(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("job {id}")))?;
        let now = self.clock.now();
        let (completion, attempt_outcome, error, output) = match outcome {
            Outcome::Succeeded { output } => (
                Completion::Succeeded,
                AttemptOutcome::Succeeded,
                None,
                output,
            ),
            Outcome::Failed {
                error,
                retry,
                retry_after_ms,
            } => {
                let after = retry_after_ms
                    .map(|ms| {
                        validate::range("retry_after_ms", ms, 0, 366 * 86_400_000)
                            .map(|_| SignedDuration::from_millis(ms as i64))
                    })
                    .transpose()?;
                let completion = if retry {
                    retry_or_dead(&job, now, after)
                } else {
                    Completion::Dead
                };
                (completion, AttemptOutcome::Failed, Some(error), None)
            }
        };
        let results = self
            .store
            .jobs_complete(JobsComplete {
                completions: vec![JobCompletion {
                    job_id: id.to_string(),
                    lease_token: lease_token.to_string(),
                    completion: completion.clone(),
                    outcome: attempt_outcome,
                    error,
                    output,
                    // An HTTP worker's completion names its job; the store reads it.
                    held: None,
                }],
                now: None,
            })
            .await?;
        results
            .into_iter()
            .next()
            .unwrap_or(Err(StoreError::LeaseLost))?;
        self.events
            .metrics
            .attempt_ended(&job.job.queue, attempt_outcome, &completion);
        if matches!(completion, Completion::Retry { .. }) {
            self.events.jobs_ready();
        }
        let after = self
            .store
            .jobs_get(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("job {id}")))?;
        if matches!(completion, Completion::Dead) {
            self.events.notifier.job_dead(&after).await;
        }
        Ok(after)
    }
}
