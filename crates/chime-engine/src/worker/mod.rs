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
mod turns;

use crate::events::Events;
use crate::executor::{Executors, JobContext, JobError};
use chime_core::model::{AttemptOutcome, Job};
use chime_core::retry::backoff_delay;
use chime_core::time::Clock;
use chime_store::{Completion, JobCompletion, JobsClaim, JobsHeartbeat, Store, StoreError};
use completer::Completer;
use jiff::{SignedDuration, Timestamp};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use turns::{Ticket, Turns};

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
    /// Jobs due within this window (at most half the lease) are claimed
    /// early and started at their `run_at`, so a job starts on time
    /// instead of after a claim round trip.
    pub prefetch: SignedDuration,
    /// A lane holds at most this many claimed jobs per slot waiting for
    /// their instant or a slot, so that a burst larger than its
    /// concurrency starts on time; fewer when its jobs are long (the
    /// lane's pace, in `turns.rs`).
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
                completer: Completer::start(store.clone(), events.clone()),
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
        // The drained jobs' outcomes are written before the worker stops.
        self.shared.completer.flush().await;
    }
}

async fn run_lane(shared: Arc<Shared>, lane: Lane, cancel: CancellationToken) {
    let concurrency = lane.concurrency.max(1);
    let turns = Arc::new(Turns::new(
        concurrency,
        worth_claiming(&shared.cfg, concurrency),
    ));
    // Cancelled only after the grace period, to stop work still running.
    let hard_stop = CancellationToken::new();
    let mut slots = JoinSet::new();
    for _ in 0..concurrency {
        let (shared, turns) = (shared.clone(), turns.clone());
        let (stop, hard_stop) = (cancel.clone(), hard_stop.clone());
        slots.spawn(
            async move {
                while let Some(ticket) = turns.next(&stop).await {
                    let job = &ticket.job;
                    let span = tracing::info_span!("job", id = %job.id, kind = %job.job.kind, attempt = job.attempt);
                    run_job(&shared, &turns, ticket, &hard_stop)
                        .instrument(span)
                        .await;
                    turns.done();
                }
            }
            .in_current_span(),
        );
    }
    let releaser = {
        let (clock, turns, cancel) = (shared.clock.clone(), Arc::downgrade(&turns), cancel.clone());
        tokio::task::spawn_blocking(move || Turns::release(turns, clock.as_ref(), &cancel))
    };
    claim_loop(&shared, &lane, &turns, &cancel).await;
    turns.wake_releaser();

    let in_flight = turns.busy();
    if in_flight > 0 {
        tracing::info!(in_flight, "waiting for running jobs before shutdown");
    }
    let drained = tokio::time::timeout(shared.cfg.shutdown_grace, async {
        while slots.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("grace period over; stopping the jobs still running and releasing them");
        hard_stop.cancel();
        while slots.join_next().await.is_some() {}
    }
    let _ = releaser.await;
    // Jobs claimed but never started go back, their attempt counted as
    // for any interrupted one.
    let now = shared.clock.now();
    for ticket in turns.drain() {
        shared.completer.complete(
            JobCompletion {
                job_id: ticket.job.id.clone(),
                lease_token: ticket.lease_token,
                completion: Completion::Retry { at: now },
                outcome: AttemptOutcome::Cancelled,
                error: Some("worker shut down before the job started".into()),
                output: None,
                held: Some(ticket.job.clone()),
            },
            None,
            None,
        );
    }
}

/// Claims jobs into the lane until `cancel`: due ones into the slots no
/// held job counts on, then jobs not yet due, held until their instant.
async fn claim_loop(shared: &Shared, lane: &Lane, turns: &Turns, cancel: &CancellationToken) {
    let ready = shared.events.jobs_ready_signal();
    // Until when an idle lane polls at EAGER_POLL (after an announcement).
    let mut eager_until = tokio::time::Instant::now();
    let hold_max = turns
        .concurrency()
        .saturating_mul(shared.cfg.prefetch_per_slot.max(1));
    let batch = shared.cfg.claim_batch.max(1) as usize;
    let worth_claiming = turns.worth();
    // A held job's lease is not renewed while it waits: held no longer
    // than half the lease, it starts (and renews) well before expiry.
    let window = shared.cfg.prefetch.min(shared.cfg.lease / 2);
    while !cancel.is_cancelled() {
        let (spare, _) = turns.openings(hold_max, window);
        if spare > 0 && spare < worth_claiming && turns.held() == 0 {
            // Short jobs free slots within microseconds: wait a moment for
            // a worthwhile batch. Long ones do not: then claim what is free.
            let linger = tokio::time::sleep(CLAIM_LINGER);
            tokio::pin!(linger);
            while turns.openings(hold_max, window).0 < worth_claiming {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = turns.changed.notified() => {}
                    _ = &mut linger => break,
                }
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
        let (spare, room) = turns.openings(hold_max, window);
        // Due jobs go into the free slots and, once the lane's measured
        // pace starts more than that within the window, into the room held
        // jobs have: a lane of short jobs then has its next ones at hand
        // while a claim is on its way, instead of idle slots. Before a job
        // has ended the pace is a guess, and a held job of a slow lane
        // could outwait its lease.
        let due = if turns.paced() {
            spare.max(room)
        } else {
            spare
        };
        let mut claimed = 0;
        let mut failed = false;
        for early in [false, true] {
            let limit = if early {
                turns.openings(hold_max, window).1
            } else {
                due
            }
            .min(batch);
            // A due claim that filled up found a backlog: more due jobs
            // come first, in the next round.
            if limit == 0 || (early && claimed > 0 && claimed == due.min(batch)) {
                continue;
            }
            let claim = shared
                .store
                .jobs_claim(JobsClaim {
                    due_by: Some(if early { now + window } else { now }),
                    due_after: early.then_some(now),
                    queues: lane.queues.clone(),
                    limit: limit as u32,
                    worker: shared.cfg.worker_id.clone(),
                    lease: shared.cfg.lease,
                    now: None,
                })
                .await;
            match claim {
                Ok(jobs) => {
                    claimed += jobs.len();
                    for claimed in jobs {
                        turns.hold(Ticket::new(claimed, now, &shared.events.metrics), now);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "claim failed; backing off");
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
            }
        }
        if claimed > 0 {
            continue;
        }
        if spare == 0 && room == 0 {
            // Nothing to claim into until slots come free.
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = changed => {}
                _ = tokio::time::sleep(shared.cfg.poll_every) => {}
            }
            continue;
        }
        let poll = if tokio::time::Instant::now() < eager_until {
            EAGER_POLL.min(shared.cfg.poll_every)
        } else {
            shared.cfg.poll_every
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = woken => {
                eager_until = tokio::time::Instant::now()
                    + crate::scheduler::MAX_FIRE_AHEAD.unsigned_abs();
            }
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

/// A busy lane claims due jobs in batches of at least a quarter of its
/// slots: many one-job claims would cost a write each.
fn worth_claiming(cfg: &WorkerConfig, concurrency: usize) -> usize {
    (concurrency / 4).clamp(1, cfg.claim_batch.max(1) as usize)
}

enum Ended {
    Finished(Result<Option<String>, JobError>),
    TimedOut,
    LeaseLost,
    ShutDown,
}

/// Runs one job in a slot, which is free for the next as soon as the work
/// ends: the completer writes the outcome.
async fn run_job(
    shared: &Shared,
    turns: &Turns,
    mut ticket: Box<Ticket>,
    shutdown: &CancellationToken,
) {
    // Read in place: the ticket is boxed so that it moves as a pointer.
    let lease_token = std::mem::take(&mut ticket.lease_token);
    let job = &ticket.job;
    let metrics = &shared.events.metrics;
    // A job held longer than a heartbeat's interval renews its lease before
    // the work starts (none is renewed while held: that would be a timer
    // per job at the instant).
    let mut started = shared.clock.now();
    if started.duration_since(ticket.at) >= shared.cfg.heartbeat_every {
        let beat = renew(
            shared.store.as_ref(),
            &job.id,
            &lease_token,
            shared.cfg.lease,
        )
        .await;
        if let Err(StoreError::LeaseLost) = beat {
            metrics.lease_lost.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("lease lost (expired or job cancelled) before the job started");
            return;
        }
        started = shared.clock.now();
    }
    let queue = &ticket.queue;
    let cancel = &ticket.cancel;
    let timeout = Executors::timeout(job);
    queue
        .start_lateness
        .observe(started.duration_since(job.run_at));
    if let Some(instant) = job.scheduled_for {
        metrics
            .fire_lateness
            .observe(started.duration_since(instant));
    }
    // The heartbeat borrows the lease token: it ends with this block,
    // before the token goes into the completion.
    let ended = {
        // Polled beside the work: no task to spawn per job.
        let heartbeat = heartbeat(
            shared.store.as_ref(),
            &job.id,
            &lease_token,
            shared.cfg.lease,
            shared.cfg.heartbeat_every,
        );
        let ctx = JobContext {
            attempt: job.attempt,
            idempotency_key: std::mem::take(&mut ticket.idempotency_key),
            cancel: cancel.clone(),
        };
        let mut work = std::pin::pin!(shared.executors.run(job, ctx));
        // A job that ends at its first poll needs no timer: a burst of
        // quick jobs then arms none.
        match std::future::poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await {
            Poll::Ready(result) => Ended::Finished(result),
            Poll::Pending => tokio::select! {
                biased;
                result = work => Ended::Finished(result),
                _ = tokio::time::sleep(timeout.unsigned_abs()) => Ended::TimedOut,
                _ = heartbeat => Ended::LeaseLost,
                _ = shutdown.cancelled() => Ended::ShutDown,
            },
        }
    };
    // Dropping the execution future above stopped the work; tell cooperative handlers too.
    cancel.cancel();
    let now = shared.clock.now();
    turns.pace.record(now.duration_since(started));
    let retry_or_dead = |after: Option<SignedDuration>| retry_or_dead(job, now, after);
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
    queue.attempt_ended(outcome, &completion);
    if let Some(error) = &error {
        tracing::info!(%error, ?completion, "job attempt failed");
    }
    // The job goes on whole only when it went dead (for the notifier).
    let dead = matches!(completion, Completion::Dead).then(|| {
        let mut job = Job::clone(&ticket.job);
        job.last_error = error.clone();
        job.finished_at = Some(now);
        job
    });
    shared.completer.complete(
        JobCompletion {
            job_id: ticket.job.id.clone(),
            lease_token,
            completion,
            outcome,
            error,
            output,
            held: Some(ticket.job.clone()),
        },
        dead,
        Some(ticket),
    );
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
        match renew(store, job_id, lease_token, lease).await {
            Ok(_) => {}
            Err(StoreError::LeaseLost) => return,
            Err(e) => tracing::warn!(error = %e, "heartbeat failed; will retry"),
        }
    }
}

/// Extends a running job's lease by `lease` from now.
async fn renew(
    store: &dyn Store,
    job_id: &str,
    lease_token: &str,
    lease: SignedDuration,
) -> chime_store::Result<()> {
    store
        .jobs_heartbeat(JobsHeartbeat {
            job_id: job_id.to_string(),
            lease_token: lease_token.to_string(),
            extend: lease,
            now: None,
        })
        .await
        .map(drop)
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
