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
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
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
    /// A lane holds at most this many claimed jobs per slot waiting for
    /// their instant or a slot, so that a burst larger than its
    /// concurrency starts on time; fewer when its jobs are long (see
    /// [`Pace`]).
    pub prefetch_per_slot: usize,
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
            prefetch: crate::scheduler::MAX_FIRE_AHEAD,
            prefetch_per_slot: 10,
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
    let concurrency = lane.concurrency.max(1);
    let turns = Arc::new(Turns {
        slots: Arc::new(Semaphore::new(concurrency)),
        held: AtomicUsize::new(0),
        changed: Notify::new(),
        pace: Pace::default(),
    });
    let ready = shared.events.jobs_ready_signal();
    // Until when an idle lane polls at EAGER_POLL (after an announcement).
    let mut eager_until = tokio::time::Instant::now();
    // Cancelled only after the grace period, to stop work still running.
    let hard_stop = CancellationToken::new();
    let mut running = JoinSet::new();
    let hold_max = concurrency.saturating_mul(shared.cfg.prefetch_per_slot.max(1));
    let batch = shared.cfg.claim_batch.max(1) as usize;
    // A busy lane claims due jobs in batches of at least a quarter of its
    // slots: many one-job claims would cost a write each.
    let worth_claiming = (concurrency / 4).clamp(1, batch);
    while !cancel.is_cancelled() {
        while running.try_join_next().is_some() {}
        let (spare, room) = turns.openings(concurrency, hold_max, shared.cfg.prefetch);
        if spare > 0 && spare < worth_claiming && turns.held() == 0 {
            // Short jobs free slots within microseconds: wait a moment for
            // a worthwhile batch. Long ones do not: then claim what is free.
            tokio::select! {
                _ = cancel.cancelled() => break,
                permits = turns.slots.acquire_many(worth_claiming as u32) => drop(permits),
                _ = tokio::time::sleep(CLAIM_LINGER) => {}
            }
        }
        // Armed before the claims: jobs announced while they run (a fire
        // batch written meanwhile) wake the lane at once instead of at the
        // next poll.
        let woken = ready.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let changed = turns.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let now = shared.clock.now();
        let (spare, _) = turns.openings(concurrency, hold_max, shared.cfg.prefetch);
        // Due jobs first, into the slots no held job counts on; then jobs
        // not yet due, held without a slot until their instant.
        let mut claimed = 0;
        let mut failed = false;
        for early in [false, true] {
            let limit = if early {
                turns.openings(concurrency, hold_max, shared.cfg.prefetch).1
            } else {
                spare
            }
            .min(batch);
            // A due claim that filled up found a backlog: more due jobs
            // come first, in the next round.
            if limit == 0 || (early && claimed > 0 && claimed == spare.min(batch)) {
                continue;
            }
            let claim = shared
                .store
                .jobs_claim(JobsClaim {
                    due_by: Some(if early {
                        now + shared.cfg.prefetch
                    } else {
                        now
                    }),
                    due_after: early.then_some(now),
                    queues: lane.queues.clone(),
                    limit: limit as u32,
                    worker: shared.cfg.worker_id.clone(),
                    lease: shared.cfg.lease,
                    now: None,
                })
                .await;
            let jobs = match claim {
                Ok(jobs) => jobs,
                Err(e) => {
                    tracing::warn!(error = %e, "claim failed; backing off");
                    failed = true;
                    break;
                }
            };
            claimed += jobs.len();
            for job in jobs {
                // A due job takes its slot now; held ones when their turn comes.
                let slot = if early {
                    None
                } else {
                    turns.slots.clone().try_acquire_owned().ok()
                };
                let held = slot.is_none().then(|| Held::new(&turns));
                let shared = shared.clone();
                let turns = turns.clone();
                let stop = hard_stop.clone();
                let span = tracing::info_span!("job", id = %job.job.id, kind = %job.job.job.kind, attempt = job.job.attempt);
                running.spawn(
                    async move {
                        execute(&shared, &turns, job, stop, slot, held).await;
                    }
                    .instrument(span),
                );
            }
        }
        if failed {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
            }
        }
        if claimed > 0 {
            continue;
        }
        if spare == 0 && room == 0 {
            // Nothing to claim into until a slot frees or a held job starts.
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = changed => {}
            }
            continue;
        }
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

/// A lane's execution slots and the claimed jobs waiting for one.
struct Turns {
    /// Bounds concurrent executions.
    slots: Arc<Semaphore>,
    /// Claimed jobs holding no slot yet: waiting for their instant or a slot.
    held: AtomicUsize,
    /// A slot was freed or a held job took one.
    changed: Notify,
    pace: Pace,
}

impl Turns {
    fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// Slots no held job counts on (for due jobs), and how many more jobs
    /// not yet due the lane may hold: as many as its slots can start within
    /// the prefetch window at the pace its jobs end, at least its free
    /// slots and at most `hold_max`. Long jobs leave a burst to other
    /// instances instead of holding it here.
    fn openings(
        &self,
        concurrency: usize,
        hold_max: usize,
        window: SignedDuration,
    ) -> (usize, usize) {
        let free = self.slots.available_permits();
        let held = self.held();
        let startable = self.pace.startable(concurrency, window);
        let room = hold_max.min(free.max(startable)).saturating_sub(held);
        (free.saturating_sub(held), room)
    }
}

/// How long a lane's jobs run, as a moving average.
#[derive(Default)]
struct Pace {
    /// Microseconds; 0 until a job has ended.
    mean_us: AtomicU64,
}

impl Pace {
    fn record(&self, took: SignedDuration) {
        let us = took.as_micros().clamp(1, i128::from(u64::MAX)) as u64;
        // Racy read-modify-write: a lost update only skews an estimate.
        let old = self.mean_us.load(Ordering::Relaxed);
        let new = if old == 0 { us } else { old - old / 8 + us / 8 };
        self.mean_us.store(new.max(1), Ordering::Relaxed);
    }

    /// Jobs `slots` slots start within `window` at this pace (before any
    /// job has ended: one per slot).
    fn startable(&self, slots: usize, window: SignedDuration) -> usize {
        let mean = u128::from(self.mean_us.load(Ordering::Relaxed));
        if mean == 0 {
            return slots;
        }
        let window_us = window.as_micros().max(0) as u128;
        usize::try_from(slots as u128 * window_us / mean).unwrap_or(usize::MAX)
    }
}

enum Ended {
    Finished(Result<Option<String>, JobError>),
    TimedOut,
    LeaseLost,
    ShutDown { started: bool },
}

/// Counts a claimed job until it takes a slot (or is dropped).
struct Held(Arc<Turns>);

impl Held {
    fn new(turns: &Arc<Turns>) -> Held {
        turns.held.fetch_add(1, Ordering::Relaxed);
        Held(turns.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.held.fetch_sub(1, Ordering::Relaxed);
        self.0.changed.notify_one();
    }
}

/// Runs one job. `slot` is released as soon as the work ends: the slot
/// bounds concurrent executions, not outcomes waiting to be written.
/// Without one, the job waits for its `run_at` and then a slot.
async fn execute(
    shared: &Shared,
    turns: &Turns,
    claimed: ClaimedJob,
    shutdown: CancellationToken,
    slot: Option<OwnedSemaphorePermit>,
    held: Option<Held>,
) {
    let ClaimedJob {
        job, lease_token, ..
    } = claimed;
    let metrics = &shared.events.metrics;
    let queue = metrics.queues.get(&job.job.queue);
    // Everything is made ready before the job's turn, so that at the
    // instant only the work itself starts.
    let work = CancellationToken::new();
    let timeout = Executors::timeout(&job);
    // The heartbeat borrows the lease token: it ends with this block,
    // before the token goes into the completion.
    let (ended, started) = {
        // Polled beside the wait and the work below: no task to spawn per job.
        let heartbeat = heartbeat(
            shared.store.as_ref(),
            &job.id,
            &lease_token,
            shared.cfg.lease,
            shared.cfg.heartbeat_every,
        );
        tokio::pin!(heartbeat);
        let ctx = JobContext {
            attempt: job.attempt,
            idempotency_key: job.idempotency_key(),
            cancel: work.clone(),
        };
        let turn = async {
            let early = job.run_at.duration_since(shared.clock.now());
            if early > SignedDuration::ZERO {
                tokio::time::sleep(early.unsigned_abs()).await;
            }
            match slot {
                Some(slot) => Some(slot),
                None => turns.slots.clone().acquire_owned().await.ok(),
            }
        };
        // The lease is renewed while the job waits; a shutdown ends the
        // wait and the job is released below without having started.
        let slot = tokio::select! {
            biased;
            slot = turn => slot,
            _ = shutdown.cancelled() => None,
            _ = &mut heartbeat => {
                metrics.lease_lost.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("lease lost (expired or job cancelled) before the job started");
                return;
            }
        };
        drop(held);
        let started = shared.clock.now();
        let ended = match slot {
            None => Ended::ShutDown { started: false },
            Some(slot) => {
                queue
                    .start_lateness
                    .observe(started.duration_since(job.run_at));
                if let Some(instant) = job.scheduled_for {
                    metrics
                        .fire_lateness
                        .observe(started.duration_since(instant));
                }
                let ended = tokio::select! {
                    biased;
                    result = shared.executors.run(&job, ctx) => Ended::Finished(result),
                    _ = tokio::time::sleep(timeout.unsigned_abs()) => Ended::TimedOut,
                    _ = &mut heartbeat => Ended::LeaseLost,
                    _ = shutdown.cancelled() => Ended::ShutDown { started: true },
                };
                drop(slot);
                turns.changed.notify_one();
                turns
                    .pace
                    .record(shared.clock.now().duration_since(started));
                ended
            }
        };
        (ended, started)
    };
    // Dropping the execution future above stopped the work; tell cooperative handlers too.
    work.cancel();

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
        Ended::ShutDown { started } => (
            Completion::Retry { at: now },
            AttemptOutcome::Cancelled,
            Some(if started {
                "worker shut down before the job finished".into()
            } else {
                "worker shut down before the job started".into()
            }),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn turns(concurrency: usize, mean: SignedDuration) -> Arc<Turns> {
        let turns = Arc::new(Turns {
            slots: Arc::new(Semaphore::new(concurrency)),
            held: AtomicUsize::new(0),
            changed: Notify::new(),
            pace: Pace::default(),
        });
        if mean > SignedDuration::ZERO {
            turns.pace.record(mean);
        }
        turns
    }

    const WINDOW: SignedDuration = SignedDuration::from_secs(1);

    #[test]
    fn quick_jobs_let_a_lane_hold_up_to_its_bound() {
        let t = turns(4, SignedDuration::from_millis(1));
        assert_eq!(t.openings(4, 40, WINDOW), (4, 40));
        let held: Vec<Held> = (0..3).map(|_| Held::new(&t)).collect();
        assert_eq!(
            t.openings(4, 40, WINDOW),
            (1, 37),
            "held jobs count on slots"
        );
        drop(held);
        assert_eq!(t.held(), 0);
    }

    #[test]
    fn before_any_job_ended_a_lane_holds_one_per_slot() {
        assert_eq!(
            turns(4, SignedDuration::ZERO).openings(4, 40, WINDOW),
            (4, 4)
        );
    }

    #[test]
    fn long_jobs_hold_no_more_than_the_free_slots() {
        let t = turns(4, SignedDuration::from_secs(60));
        assert_eq!(t.openings(4, 40, WINDOW), (4, 4));
        let busy = t.slots.clone().try_acquire_many_owned(3).unwrap();
        assert_eq!(t.openings(4, 40, WINDOW), (1, 1));
        let _held = Held::new(&t);
        assert_eq!(
            t.openings(4, 40, WINDOW),
            (0, 0),
            "nothing more while all are spoken for"
        );
        drop(busy);
    }
}
