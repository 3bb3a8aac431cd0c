//! A lane's jobs between their claim and their start: held until their
//! instant, then queued for the next free slot.
//!
//! A slot is a long-lived task that runs one job after another, so a burst
//! larger than the lane's concurrency costs no task and no timer per job:
//! one releaser wakes at each instant and queues that instant's jobs, and
//! a slot that ends a job takes the next without waking anyone.
//!
//! The releaser sleeps on a thread of its own, not on tokio's timer: that
//! timer counts whole milliseconds and fires at the first tick after the
//! deadline, so every instant's jobs would start 1–2 ms late; a thread's
//! timed park wakes within a few hundred microseconds, even with the
//! other core busy.

use crate::metrics::{Metrics, QueueMetrics};
use chime_core::model::Job;
use chime_core::time::Clock;
use chime_store::ClaimedJob;
use jiff::{SignedDuration, Timestamp};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::thread::Thread;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

/// A claimed job, made ready to start at the claim: up to a second before
/// its instant, so that a burst's starts do only the start itself.
pub(super) struct Ticket {
    /// Shared with an in-process handler rather than copied for it.
    pub job: Arc<Job>,
    pub lease_token: String,
    /// When this worker claimed it (its clock).
    pub at: Timestamp,
    pub idempotency_key: String,
    /// Cancelled when the work stops; the handler holds a clone.
    pub cancel: CancellationToken,
    /// Its queue's metrics, looked up once.
    pub queue: Arc<QueueMetrics>,
}

impl Ticket {
    pub fn new(claimed: ClaimedJob, at: Timestamp, metrics: &Metrics) -> Box<Ticket> {
        let ClaimedJob {
            job, lease_token, ..
        } = claimed;
        Box::new(Ticket {
            idempotency_key: job.idempotency_key(),
            queue: metrics.queues.get(&job.job.queue),
            job: Arc::new(job),
            lease_token,
            at,
            cancel: CancellationToken::new(),
        })
    }
}

pub(super) struct Turns {
    concurrency: usize,
    /// Free slots worth a claim: `changed` tells when that many are free
    /// (and when the first is), not at every job's end.
    worth: usize,
    /// Held until their `run_at`, earliest first (the number keeps equal
    /// instants apart, in claim order).
    ahead: Mutex<BTreeMap<(Timestamp, u64), Box<Ticket>>>,
    seq: AtomicU64,
    /// Their turn has come: the next free slot takes the first. (Boxed
    /// here and above: at an instant thousands move, a pointer each.)
    ready: Mutex<VecDeque<Box<Ticket>>>,
    /// One permit per ticket in `ready`: idle slots wait on it.
    queued: Semaphore,
    /// The releaser's thread, and the instant it sleeps until (ns since
    /// the epoch, written under `ahead`'s lock): a job held for an earlier
    /// one wakes it, the rest of a burst does not.
    releaser: OnceLock<Thread>,
    wakes_at: AtomicI64,
    /// Tickets in `ahead` and `ready`.
    held: AtomicUsize,
    /// Slots running a job.
    busy: AtomicUsize,
    /// A slot or a worthwhile batch of slots came free: the claim loop may
    /// claim again.
    pub changed: Notify,
    pub pace: Pace,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; a poisoned one is still whole.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Turns {
    pub fn new(concurrency: usize, worth: usize) -> Turns {
        Turns {
            concurrency,
            worth,
            ahead: Mutex::default(),
            seq: AtomicU64::new(0),
            ready: Mutex::default(),
            queued: Semaphore::new(0),
            releaser: OnceLock::new(),
            wakes_at: AtomicI64::new(i64::MAX),
            held: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            changed: Notify::new(),
            pace: Pace::default(),
        }
    }

    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Free slots worth a claim of due jobs.
    pub fn worth(&self) -> usize {
        self.worth
    }

    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    pub fn busy(&self) -> usize {
        self.busy.load(Ordering::Relaxed)
    }

    /// Takes a claimed job in: queued for a slot if due at `now`, held
    /// until its instant otherwise.
    pub fn hold(&self, ticket: Box<Ticket>, now: Timestamp) {
        self.held.fetch_add(1, Ordering::Relaxed);
        let at = ticket.job.run_at;
        if at > now {
            let seq = self.seq.fetch_add(1, Ordering::Relaxed);
            let mut ahead = lock(&self.ahead);
            ahead.insert((at, seq), ticket);
            let sooner = nanos(at) < self.wakes_at.load(Ordering::Relaxed);
            drop(ahead);
            if sooner {
                self.wake_releaser();
            }
        } else {
            lock(&self.ready).push_back(ticket);
            self.queued.add_permits(1);
        }
    }

    /// Queues the held jobs whose instant has come; returns the next
    /// instant still ahead.
    fn release_due(&self, now: Timestamp) -> Option<Timestamp> {
        let mut ahead = lock(&self.ahead);
        let later = match now.checked_add(SignedDuration::from_nanos(1)) {
            Ok(after) => ahead.split_off(&(after, 0)),
            Err(_) => BTreeMap::new(),
        };
        let due = std::mem::replace(&mut *ahead, later);
        let next = ahead.first_key_value().map(|(key, _)| key.0);
        self.wakes_at
            .store(next.map_or(i64::MAX, nanos), Ordering::Relaxed);
        drop(ahead);
        if !due.is_empty() {
            let n = due.len();
            lock(&self.ready).extend(due.into_values());
            self.queued.add_permits(n);
        }
        next
    }

    /// Wakes at each held job's instant and queues it, until `cancel` (and
    /// a [`Turns::wake_releaser`] after it) or until the lane is gone.
    /// Blocks: run on its own thread. It also looks on its own once a
    /// second, whatever the clock did meanwhile.
    pub fn release(turns: Weak<Turns>, clock: &dyn Clock, cancel: &CancellationToken) {
        // Set before the first look at `ahead`: a job held after that look
        // finds the thread to wake.
        if let Some(t) = turns.upgrade() {
            let _ = t.releaser.set(std::thread::current());
        }
        while !cancel.is_cancelled() {
            let Some(t) = turns.upgrade() else { return };
            let now = clock.now();
            let wait = t
                .release_due(now)
                .map_or(LOOK_AGAIN, |at| at.duration_since(now).unsigned_abs())
                .min(LOOK_AGAIN);
            drop(t);
            std::thread::park_timeout(wait);
        }
    }

    /// Makes the releaser look at the held jobs (or at `cancel`) again.
    pub fn wake_releaser(&self) {
        if let Some(thread) = self.releaser.get() {
            thread.unpark();
        }
    }

    /// The next job whose turn has come, for a free slot; `None` once
    /// `stop` is cancelled (the slot then takes no more).
    pub async fn next(&self, stop: &CancellationToken) -> Option<Box<Ticket>> {
        loop {
            // In a burst a permit is there: take it without polling `stop`'s
            // future, which registers with (and leaves) a waiter list every
            // slot shares.
            let permit = match self.queued.try_acquire() {
                Ok(permit) if !stop.is_cancelled() => permit,
                Ok(permit) => {
                    drop(permit);
                    return None;
                }
                Err(_) => tokio::select! {
                    biased;
                    _ = stop.cancelled() => return None,
                    permit = self.queued.acquire() => permit.ok()?,
                },
            };
            permit.forget();
            if let Some(ticket) = lock(&self.ready).pop_front() {
                self.held.fetch_sub(1, Ordering::Relaxed);
                self.busy.fetch_add(1, Ordering::Relaxed);
                return Some(ticket);
            }
        }
    }

    /// A slot ended its job.
    pub fn done(&self) {
        let busy = self.busy.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
        let free = self.concurrency.saturating_sub(busy);
        if free == 1 || free == self.worth {
            self.changed.notify_one();
        }
    }

    /// Every job still held (at shutdown, once the slots have stopped).
    pub fn drain(&self) -> Vec<Ticket> {
        let mut all: Vec<Ticket> = lock(&self.ready).drain(..).map(|t| *t).collect();
        all.extend(
            std::mem::take(&mut *lock(&self.ahead))
                .into_values()
                .map(|t| *t),
        );
        self.held.fetch_sub(all.len(), Ordering::Relaxed);
        all
    }

    /// Whether a job has ended, so that the pace is measured.
    pub fn paced(&self) -> bool {
        self.pace.mean_us.load(Ordering::Relaxed) > 0
    }

    /// Slots no held job counts on (for due jobs), and how many more jobs
    /// not yet due the lane may hold: as many as its slots can start within
    /// the prefetch window at the pace its jobs end, at least its free
    /// slots and at most `hold_max`. Long jobs leave a burst to other
    /// instances instead of holding it here.
    pub fn openings(&self, hold_max: usize, window: SignedDuration) -> (usize, usize) {
        let free = self
            .concurrency
            .saturating_sub(self.busy.load(Ordering::Relaxed));
        let held = self.held();
        let startable = self.pace.startable(self.concurrency, window);
        let room = hold_max.min(free.max(startable)).saturating_sub(held);
        (free.saturating_sub(held), room)
    }
}

impl Drop for Turns {
    /// The releaser's thread ends with the lane, even one never cancelled
    /// (its future dropped): a runtime waits for its blocking tasks.
    fn drop(&mut self) {
        self.wake_releaser();
    }
}

/// The releaser's longest sleep.
const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// An instant as the releaser's wake-up time compares it.
fn nanos(at: Timestamp) -> i64 {
    i64::try_from(at.as_nanosecond()).unwrap_or(i64::MAX)
}

/// How long a lane's jobs run, as a moving average.
#[derive(Default)]
pub(super) struct Pace {
    /// Microseconds; 0 until a job has ended.
    mean_us: AtomicU64,
}

impl Pace {
    pub fn record(&self, took: SignedDuration) {
        let us = took.as_micros().clamp(1, i128::from(u64::MAX)) as u64;
        // Racy read-modify-write: a lost update only skews an estimate.
        let old = self.mean_us.load(Ordering::Relaxed);
        let new = if old == 0 { us } else { old - old / 8 + us / 8 }.max(1);
        // Written only when it moved: every slot shares this cache line.
        if new != old {
            self.mean_us.store(new, Ordering::Relaxed);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use chime_core::model::{JobState, JobTemplate};
    use chime_core::time::SystemClock;

    const WINDOW: SignedDuration = SignedDuration::from_secs(1);

    fn turns(concurrency: usize, mean: SignedDuration) -> Turns {
        let turns = Turns::new(concurrency, 1);
        if mean > SignedDuration::ZERO {
            turns.pace.record(mean);
        }
        turns
    }

    fn ticket(id: &str, run_at: Timestamp) -> Box<Ticket> {
        let job = Job {
            id: id.into(),
            namespace: "default".into(),
            job: JobTemplate::new("q", "k"),
            state: JobState::Running,
            attempt: 1,
            run_at,
            created_at: run_at,
            finished_at: None,
            schedule_id: None,
            scheduled_for: None,
            unique_key: None,
            worker: None,
            lease_expires_at: None,
            last_error: None,
        };
        let claimed = ClaimedJob {
            job,
            lease_token: "t".into(),
            lease_expires_at: run_at,
        };
        Ticket::new(claimed, run_at, &Metrics::default())
    }

    #[test]
    fn quick_jobs_let_a_lane_hold_up_to_its_bound() {
        let t = turns(4, SignedDuration::from_millis(1));
        assert_eq!(t.openings(40, WINDOW), (4, 40));
        let now = Timestamp::now();
        for i in 0..3 {
            t.hold(ticket(&i.to_string(), now + WINDOW), now);
        }
        assert_eq!(t.openings(40, WINDOW), (1, 37), "held jobs count on slots");
    }

    #[test]
    fn before_any_job_ended_a_lane_holds_one_per_slot() {
        assert_eq!(turns(4, SignedDuration::ZERO).openings(40, WINDOW), (4, 4));
    }

    #[test]
    fn long_jobs_hold_no_more_than_the_free_slots() {
        let t = turns(4, SignedDuration::from_secs(60));
        assert_eq!(t.openings(40, WINDOW), (4, 4));
        t.busy.store(3, Ordering::Relaxed);
        assert_eq!(t.openings(40, WINDOW), (1, 1));
        let now = Timestamp::now();
        t.hold(ticket("a", now + WINDOW), now);
        assert_eq!(
            t.openings(40, WINDOW),
            (0, 0),
            "nothing more while all are spoken for"
        );
    }

    #[tokio::test]
    async fn held_jobs_are_queued_at_their_instant_in_order() {
        let t = turns(2, SignedDuration::ZERO);
        let now = Timestamp::now();
        let s = |n| now + SignedDuration::from_secs(n);
        t.hold(ticket("later", s(2)), now);
        t.hold(ticket("due", now), now);
        t.hold(ticket("soon", s(1)), now);
        t.hold(ticket("soon-too", s(1)), now);
        assert_eq!(t.release_due(now), Some(s(1)));
        let stop = CancellationToken::new();
        assert_eq!(
            t.next(&stop).await.map(|t| t.job.id.clone()).as_deref(),
            Some("due")
        );
        assert_eq!(t.release_due(s(1)), Some(s(2)));
        let ids: Vec<String> = [t.next(&stop).await, t.next(&stop).await]
            .into_iter()
            .flatten()
            .map(|t| t.job.id.clone())
            .collect();
        assert_eq!(ids, ["soon", "soon-too"]);
        assert_eq!(t.held(), 1);
        let left: Vec<String> = t.drain().into_iter().map(|t| t.job.id.clone()).collect();
        assert_eq!(left, ["later"]);
        assert_eq!(t.held(), 0);
        stop.cancel();
        assert!(t.next(&stop).await.is_none());
    }

    /// The releaser on a thread of the test's own, and a channel that
    /// tells when it returned: a test that fails does not then wait for it.
    fn spawn_releaser(t: &Arc<Turns>, cancel: &CancellationToken) -> std::sync::mpsc::Receiver<()> {
        let (t, cancel) = (Arc::downgrade(t), cancel.clone());
        let (ended, on_end) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            Turns::release(t, &SystemClock, &cancel);
            let _ = ended.send(());
        });
        on_end
    }

    #[tokio::test]
    async fn a_job_held_for_a_sooner_instant_wakes_the_releaser() {
        let t = Arc::new(turns(1, SignedDuration::ZERO));
        let cancel = CancellationToken::new();
        let releaser = spawn_releaser(&t, &cancel);
        let now = Timestamp::now();
        let later = now + SignedDuration::from_hours(1);
        t.hold(ticket("later", later), now);
        // Asleep until the later job's instant...
        while t.wakes_at.load(Ordering::Relaxed) != nanos(later) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // ...it must still queue a job held for sooner at that job's instant.
        let now = Timestamp::now();
        t.hold(ticket("soon", now + SignedDuration::from_millis(20)), now);
        let stop = CancellationToken::new();
        let first = tokio::time::timeout(Duration::from_secs(10), t.next(&stop)).await;
        assert_eq!(
            first.ok().flatten().map(|t| t.job.id.clone()).as_deref(),
            Some("soon")
        );
        assert_eq!(t.held(), 1, "the later job is still held");
        cancel.cancel();
        t.wake_releaser();
        assert!(
            releaser.recv_timeout(Duration::from_secs(10)).is_ok(),
            "the releaser returns once cancelled"
        );
    }

    #[tokio::test]
    async fn the_releaser_ends_with_its_lane_even_uncancelled() {
        let t = Arc::new(turns(1, SignedDuration::ZERO));
        let now = Timestamp::now();
        t.hold(ticket("later", now + SignedDuration::from_hours(1)), now);
        let releaser = spawn_releaser(&t, &CancellationToken::new());
        while t.releaser.get().is_none() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // A lane dropped without cancelling (its future aborted) must not
        // leave the thread asleep for the hour ahead: the runtime that
        // spawned it would wait for it before shutting down.
        drop(t);
        assert!(
            releaser.recv_timeout(Duration::from_secs(10)).is_ok(),
            "the releaser ended with its lane"
        );
    }
}
