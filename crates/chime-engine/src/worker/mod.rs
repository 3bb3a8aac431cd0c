//! Workers: claim jobs, run them under a lease, report the outcome.
//!
//! Guarantee (DESIGN §2.4): at-least-once. A job runs while its lease is
//! heartbeated; if the worker dies the lease expires and the reaper makes
//! the job claimable again, counting the attempt. A worker that loses its
//! lease (expired, or the job was cancelled) stops the work, and the store
//! rejects its late completion.
//!
//! Not guaranteed: exactly-once side effects. Handlers dedupe on the
//! idempotency key, which is stable across retries.

mod completer;

use crate::events::Events;
use crate::executor::{Executors, JobContext, JobError};
use chime_core::model::{AttemptOutcome, Job};
use chime_core::retry::backoff_delay;
use chime_core::time::Clock;
use chime_store::{
    ClaimedJob, Completion, JobCompletion, JobsClaim, JobsHeartbeat, Store, StoreError,
};
use completer::Completer;
use jiff::{SignedDuration, Timestamp};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How long a lane with a few free slots waits for more before claiming.
const CLAIM_LINGER: Duration = Duration::from_millis(5);

/// After jobs were announced, an idle lane looks again this often for the
/// next [`crate::scheduler::MAX_FIRE_AHEAD`]: a fire written further ahead
/// than the prefetch window is announced before its jobs can be claimed,
/// and the regular poll could find them only after their instant.
const EAGER_POLL: Duration = Duration::from_millis(50);

/// A set of queues served with its own concurrency limit.
#[derive(Debug, Clone)]
pub struct Lane {
    /// Empty: every queue.
    pub queues: Vec<String>,
    pub concurrency: usize,
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub worker_id: String,
    pub lanes: Vec<Lane>,
    pub lease: SignedDuration,
    pub heartbeat_every: SignedDuration,
    /// How often an idle lane looks for due jobs without being woken.
    pub poll_every: Duration,
    pub claim_batch: u32,
    /// Jobs due within this window are claimed early and started at their
    /// `run_at`, so a job starts on time instead of after a claim round trip.
    pub prefetch: SignedDuration,
    /// On shutdown, in-flight jobs get this long to finish.
    pub shutdown_grace: Duration,
}

impl WorkerConfig {
    pub fn new(worker_id: &str, concurrency: usize) -> WorkerConfig {
        WorkerConfig {
            worker_id: worker_id.to_string(),
            lanes: vec![Lane {
                queues: Vec::new(),
                concurrency,
            }],
            lease: SignedDuration::from_secs(30),
            heartbeat_every: SignedDuration::from_secs(10),
            poll_every: Duration::from_millis(200),
            claim_batch: 64,
            prefetch: SignedDuration::from_millis(250),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

struct Shared {
    store: Arc<dyn Store>,
    completer: Completer,
    clock: Arc<dyn Clock>,
    cfg: WorkerConfig,
    executors: Arc<Executors>,
    events: Events,
}

pub struct Worker {
    shared: Arc<Shared>,
}

impl Worker {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        cfg: WorkerConfig,
        executors: Arc<Executors>,
        events: Events,
    ) -> Worker {
        Worker {
            shared: Arc::new(Shared {
                completer: Completer::start(store.clone()),
                store,
                clock,
                cfg,
                executors,
                events,
            }),
        }
    }

    /// Runs every lane until `cancel`, then drains (DESIGN: graceful shutdown).
    pub async fn run(self, cancel: CancellationToken) {
        let mut lanes = JoinSet::new();
        for lane in self.shared.cfg.lanes.clone() {
            let span = tracing::info_span!("worker", worker = %self.shared.cfg.worker_id, queues = ?lane.queues);
            lanes.spawn(run_lane(self.shared.clone(), lane, cancel.clone()).instrument(span));
        }
        while lanes.join_next().await.is_some() {}
    }
}

async fn run_lane(shared: Arc<Shared>, lane: Lane, cancel: CancellationToken) {
    let slots = Arc::new(Semaphore::new(lane.concurrency.max(1)));
    let ready = shared.events.jobs_ready_signal();
    // Until when an idle lane polls at EAGER_POLL (after an announcement).
    let mut eager_until = tokio::time::Instant::now();
    // Cancelled only after the grace period, to stop work still running.
    let hard_stop = CancellationToken::new();
    let mut running = JoinSet::new();
    // Prefetched jobs holding a slot until their run_at.
    let waiting = Arc::new(AtomicUsize::new(0));
    // A busy lane claims in batches of at least a quarter of its slots:
    // many one-job claims would cost a write each.
    let worth_claiming = (lane.concurrency / 4).clamp(1, shared.cfg.claim_batch as usize);
    while !cancel.is_cancelled() {
        while running.try_join_next().is_some() {}
        let free = slots.available_permits();
        // While prefetched jobs wait, a burst of due jobs is being taken in:
        // every free slot is claimed at once, or the burst's last jobs would
        // wait for this second's work to end and start late.
        let in_burst = waiting.load(Ordering::Relaxed) > 0;
        if free == 0 {
            tokio::select! {
                _ = cancel.cancelled() => break,
                // Wakes when a slot frees, not when an outcome is written.
                permit = slots.acquire() => drop(permit),
            }
            continue;
        }
        if free < worth_claiming && !in_burst {
            // Short jobs free slots within microseconds: wait a moment for
            // a worthwhile batch. Long ones do not: then claim what is free.
            tokio::select! {
                _ = cancel.cancelled() => break,
                permits = slots.acquire_many(worth_claiming as u32) => drop(permits),
                _ = tokio::time::sleep(CLAIM_LINGER) => {}
            }
        }
        let free = slots.available_permits();
        if free == 0 {
            continue;
        }
        // Armed before the claim: jobs announced while it runs (a fire batch
        // written meanwhile) wake the lane at once instead of at the next poll.
        let woken = ready.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let claim = shared
            .store
            .jobs_claim(JobsClaim {
                due_by: Some(shared.clock.now() + shared.cfg.prefetch),
                queues: lane.queues.clone(),
                limit: (free as u32).min(shared.cfg.claim_batch),
                worker: shared.cfg.worker_id.clone(),
                lease: shared.cfg.lease,
                now: None,
            })
            .await;
        let claimed = match claim {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "claim failed; backing off");
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        if claimed.is_empty() {
            let poll = if tokio::time::Instant::now() < eager_until {
                EAGER_POLL.min(shared.cfg.poll_every)
            } else {
                shared.cfg.poll_every
            };
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = woken => {
                    eager_until = tokio::time::Instant::now()
                        + crate::scheduler::MAX_FIRE_AHEAD.unsigned_abs();
                }
                _ = tokio::time::sleep(poll) => {}
            }
            continue;
        }
        let now = shared.clock.now();
        for job in claimed {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            let shared = shared.clone();
            let stop = hard_stop.child_token();
            let early = (job.job.run_at > now).then(|| Waiting::new(&waiting));
            let span = tracing::info_span!("job", id = %job.job.id, kind = %job.job.job.kind, attempt = job.job.attempt);
            running.spawn(
                async move {
                    execute(&shared, job, stop, permit, early).await;
                }
                .instrument(span),
            );
        }
    }
    let in_flight = running.len();
    if in_flight > 0 {
        tracing::info!(in_flight, "waiting for running jobs before shutdown");
    }
    let drained = tokio::time::timeout(shared.cfg.shutdown_grace, async {
        while running.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("grace period over; stopping the jobs still running and releasing them");
        hard_stop.cancel();
        while running.join_next().await.is_some() {}
    }
}

enum Ended {
    Finished(Result<Option<String>, JobError>),
    TimedOut,
    LeaseLost,
    ShutDown,
}

/// Counts a prefetched job until its run_at (or until it is dropped).
struct Waiting(Arc<AtomicUsize>);

impl Waiting {
    fn new(count: &Arc<AtomicUsize>) -> Waiting {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count.clone())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Runs one job. `slot` is released as soon as the work ends: the slot
/// bounds concurrent executions, not outcomes waiting to be written.
async fn execute(
    shared: &Shared,
    claimed: ClaimedJob,
    shutdown: CancellationToken,
    slot: tokio::sync::OwnedSemaphorePermit,
    waiting: Option<Waiting>,
) {
    let ClaimedJob {
        job, lease_token, ..
    } = claimed;
    let metrics = &shared.events.metrics;
    let queue = metrics.queues.get(&job.job.queue);
    // Everything is made ready before a prefetched job's run_at, so that at
    // the instant only the work itself starts.
    let work = shutdown.child_token();
    // Polled beside the work in the select below: no task to spawn per job.
    let heartbeat = heartbeat(
        shared.store.as_ref(),
        &job.id,
        &lease_token,
        shared.cfg.lease,
        shared.cfg.heartbeat_every,
    );
    let ctx = JobContext {
        attempt: job.attempt,
        idempotency_key: job.idempotency_key(),
        cancel: work.clone(),
    };
    let timeout = Executors::timeout(&job);
    // A shutdown ends the wait; the job is then released below.
    let early = job.run_at.duration_since(shared.clock.now());
    if early > SignedDuration::ZERO {
        tokio::select! {
            _ = tokio::time::sleep(early.unsigned_abs()) => {}
            _ = shutdown.cancelled() => {}
        }
    }
    drop(waiting);
    let started = shared.clock.now();
    queue
        .start_lateness
        .observe(started.duration_since(job.run_at));
    if let Some(instant) = job.scheduled_for {
        metrics
            .fire_lateness
            .observe(started.duration_since(instant));
    }
    let ended = tokio::select! {
        result = shared.executors.run(&job, ctx) => Ended::Finished(result),
        _ = tokio::time::sleep(timeout.unsigned_abs()) => Ended::TimedOut,
        _ = heartbeat => Ended::LeaseLost,
        _ = shutdown.cancelled() => Ended::ShutDown,
    };
    // Dropping the execution future above stopped the work; tell cooperative handlers too.
    work.cancel();
    drop(slot);

    let now = shared.clock.now();
    let retry_or_dead = |after: Option<SignedDuration>| retry_or_dead(&job, now, after);
    let (completion, outcome, error, output) = match ended {
        Ended::Finished(Ok(output)) => (
            Completion::Succeeded,
            AttemptOutcome::Succeeded,
            None,
            output,
        ),
        Ended::Finished(Err(JobError::Retry { error, after })) => (
            retry_or_dead(after),
            AttemptOutcome::Failed,
            Some(error),
            None,
        ),
        Ended::Finished(Err(JobError::Fail(error))) => {
            (Completion::Dead, AttemptOutcome::Failed, Some(error), None)
        }
        Ended::TimedOut => (
            retry_or_dead(None),
            AttemptOutcome::TimedOut,
            Some(format!("timed out after {} ms", timeout.as_millis())),
            None,
        ),
        Ended::LeaseLost => {
            metrics.lease_lost.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("lease lost (expired or job cancelled); work stopped");
            return;
        }
        // Released to run again soon; the interrupted attempt still counts.
        Ended::ShutDown => (
            Completion::Retry { at: now },
            AttemptOutcome::Cancelled,
            Some("worker shut down before the job finished".into()),
            None,
        ),
    };
    queue.duration.observe(now.duration_since(started));
    metrics.attempt_ended(&job.job.queue, outcome, &completion);
    if let Some(error) = &error {
        tracing::info!(%error, ?completion, "job attempt failed");
    }
    let dead = matches!(completion, Completion::Dead).then(|| {
        let mut j = job.clone();
        j.last_error = error.clone();
        j.finished_at = Some(now);
        j
    });
    let result = shared
        .completer
        .complete(JobCompletion {
            job_id: job.id.clone(),
            lease_token,
            completion,
            outcome,
            error,
            output,
        })
        .await;
    match result {
        Ok(()) => {
            if let Some(job) = dead {
                // Boxed: a notification's future is large and rarely made.
                Box::pin(shared.events.notifier.job_dead(&job)).await;
            }
        }
        Err(StoreError::LeaseLost) => {
            metrics.lease_lost.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("completion rejected: the lease was lost meanwhile");
        }
        Err(e) => {
            tracing::error!(error = %e, "could not record the job's outcome; its lease will expire")
        }
    }
}

/// Renews the lease until it is lost (expired, or the job was cancelled);
/// returns only then.
async fn heartbeat(
    store: &dyn Store,
    job_id: &str,
    lease_token: &str,
    lease: SignedDuration,
    every: SignedDuration,
) {
    loop {
        tokio::time::sleep(every.unsigned_abs()).await;
        let beat = store
            .jobs_heartbeat(JobsHeartbeat {
                job_id: job_id.to_string(),
                lease_token: lease_token.to_string(),
                extend: lease,
                now: None,
            })
            .await;
        match beat {
            Ok(_) => {}
            Err(StoreError::LeaseLost) => return,
            Err(e) => tracing::warn!(error = %e, "heartbeat failed; will retry"),
        }
    }
}

/// After a failed attempt: again after `after` (or the job's backoff), or
/// dead when its attempts are used up. Built-in and external workers alike.
pub(crate) fn retry_or_dead(
    job: &Job,
    now: Timestamp,
    after: Option<SignedDuration>,
) -> Completion {
    if job.attempt < job.job.max_attempts {
        let delay = after
            .unwrap_or_else(|| backoff_delay(&job.job.backoff, job.attempt, fastrand::u64(..)));
        Completion::Retry {
            at: now.checked_add(delay).unwrap_or(now),
        }
    } else {
        Completion::Dead
    }
}
