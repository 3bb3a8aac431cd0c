//! What the engine counts, for `/metrics` and the benchmarks: fires and
//! misses, job attempts by queue, lease changes, store call latency. The
//! hot paths touch only atomics; labelled families take a read lock to find
//! their entry.

pub mod histogram;
mod store;
pub mod text;

pub use histogram::Histogram;
pub use store::MeteredStore;

use chime_core::model::{AttemptOutcome, MisfirePolicy};
use chime_store::Completion;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use text::Text;

/// Entries by label value, created on first use, listed in label order.
pub struct Family<T> {
    make: fn() -> T,
    entries: RwLock<BTreeMap<String, Arc<T>>>,
}

impl<T> Family<T> {
    pub fn new(make: fn() -> T) -> Family<T> {
        Family {
            make,
            entries: RwLock::new(BTreeMap::new()),
        }
    }

    pub fn get(&self, label: &str) -> Arc<T> {
        if let Ok(map) = self.entries.read() {
            if let Some(e) = map.get(label) {
                return e.clone();
            }
        }
        match self.entries.write() {
            Ok(mut map) => map
                .entry(label.to_string())
                .or_insert_with(|| Arc::new((self.make)()))
                .clone(),
            // A panic elsewhere poisoned the lock: count into a detached entry.
            Err(_) => Arc::new((self.make)()),
        }
    }

    pub fn entries(&self) -> Vec<(String, Arc<T>)> {
        match self.entries.read() {
            Ok(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// Per queue: what happened to its jobs on this instance.
pub struct QueueMetrics {
    /// By [`AttemptOutcome`], in its declaration order.
    pub attempts: [AtomicU64; 5],
    pub retries: AtomicU64,
    pub dead: AtomicU64,
    pub duration: Histogram,
    /// `run_at` (or the fire instant) → start on a worker.
    pub start_lateness: Histogram,
}

impl QueueMetrics {
    /// For a worker already holding its queue's metrics: no lookup per job.
    pub fn attempt_ended(&self, outcome: AttemptOutcome, next: &Completion) {
        let i = OUTCOMES.iter().position(|o| *o == outcome).unwrap_or(0);
        add(&self.attempts[i], 1);
        match next {
            Completion::Succeeded => {}
            Completion::Retry { .. } => add(&self.retries, 1),
            Completion::Dead => add(&self.dead, 1),
        }
    }

    fn new() -> QueueMetrics {
        QueueMetrics {
            attempts: Default::default(),
            retries: AtomicU64::new(0),
            dead: AtomicU64::new(0),
            duration: Histogram::new(histogram::DURATION),
            start_lateness: Histogram::new(histogram::LATENESS),
        }
    }
}

pub struct StoreCall {
    pub duration: Histogram,
    pub errors: AtomicU64,
}

const OUTCOMES: [AttemptOutcome; 5] = [
    AttemptOutcome::Succeeded,
    AttemptOutcome::Failed,
    AttemptOutcome::TimedOut,
    AttemptOutcome::LeaseExpired,
    AttemptOutcome::Cancelled,
];
const POLICIES: [MisfirePolicy; 3] = [
    MisfirePolicy::FireOnce,
    MisfirePolicy::FireAll,
    MisfirePolicy::Skip,
];

fn policy_name(p: MisfirePolicy) -> &'static str {
    match p {
        MisfirePolicy::FireOnce => "fire_once",
        MisfirePolicy::FireAll => "fire_all",
        MisfirePolicy::Skip => "skip",
    }
}

pub struct Metrics {
    /// Fire instants that made a job.
    pub fires: AtomicU64,
    /// Fire instants recorded as missed, by the schedule's misfire policy.
    pub missed: [AtomicU64; 3],
    /// When fires were recorded missed, and how many: the last hour's.
    pub recent_missed: std::sync::Mutex<std::collections::VecDeque<(std::time::Instant, u64)>>,
    /// Fire instants skipped on purpose, by reason (`overlap`, `paused`).
    pub skipped: Family<AtomicU64>,
    /// Scheduled instant → fire durable in the store.
    pub fire_write_lateness: Histogram,
    /// Scheduled instant → job start, for jobs made by fires.
    pub fire_lateness: Histogram,
    /// Fires refused because this instance's bucket lease was stale (fencing).
    pub stale_epochs: AtomicU64,
    /// Bucket leases this instance took over from another (epoch > 1).
    pub lease_takeovers: AtomicU64,
    pub buckets_held: AtomicU64,
    /// Jobs whose worker died (lease expired) that were put back or dead.
    pub rescued: AtomicU64,
    /// Running jobs stopped because their lease was lost or they were cancelled.
    pub lease_lost: AtomicU64,
    pub queues: Family<QueueMetrics>,
    pub store_calls: Family<StoreCall>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            fires: AtomicU64::new(0),
            missed: Default::default(),
            recent_missed: Default::default(),
            skipped: Family::new(|| AtomicU64::new(0)),
            fire_write_lateness: Histogram::new(histogram::LATENESS),
            fire_lateness: Histogram::new(histogram::LATENESS),
            stale_epochs: AtomicU64::new(0),
            lease_takeovers: AtomicU64::new(0),
            buckets_held: AtomicU64::new(0),
            rescued: AtomicU64::new(0),
            lease_lost: AtomicU64::new(0),
            queues: Family::new(QueueMetrics::new),
            store_calls: Family::new(|| StoreCall {
                duration: Histogram::new(histogram::STORE_CALL),
                errors: AtomicU64::new(0),
            }),
        }
    }
}

const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

fn get(c: &AtomicU64) -> f64 {
    c.load(Ordering::Relaxed) as f64
}

impl Metrics {
    pub fn missed(&self, policy: MisfirePolicy, fires: u64) {
        let i = POLICIES.iter().position(|p| *p == policy).unwrap_or(0);
        add(&self.missed[i], fires);
        if let Ok(mut recent) = self.recent_missed.lock() {
            let now = std::time::Instant::now();
            while recent
                .front()
                .is_some_and(|(at, _)| now.duration_since(*at) > HOUR)
            {
                recent.pop_front();
            }
            recent.push_back((now, fires));
        }
    }

    /// Fires recorded missed on this instance in the last hour.
    pub fn missed_last_hour(&self) -> u64 {
        let now = std::time::Instant::now();
        self.recent_missed
            .lock()
            .map(|r| {
                r.iter()
                    .filter(|(at, _)| now.duration_since(*at) <= HOUR)
                    .map(|(_, n)| n)
                    .sum()
            })
            .unwrap_or(0)
    }

    /// An execution ended with `outcome`, and the job goes on as `next`.
    pub fn attempt_ended(&self, queue: &str, outcome: AttemptOutcome, next: &Completion) {
        self.queues.get(queue).attempt_ended(outcome, next);
    }

    pub fn store_call(&self, op: &str, started: std::time::Instant, failed: bool) {
        let call = self.store_calls.get(op);
        call.duration.observe_since(started);
        if failed {
            add(&call.errors, 1);
        }
    }

    pub fn skipped(&self, reason: &str, fires: u64) {
        add(&self.skipped.get(reason), fires);
    }

    pub fn total_attempts(&self) -> u64 {
        self.queues
            .entries()
            .iter()
            .flat_map(|(_, q)| q.attempts.iter().map(|a| a.load(Ordering::Relaxed)))
            .sum()
    }

    /// Prometheus text of everything counted here, plus the store's view of
    /// the queues (`jobs`: queue, state, count), which all instances share.
    pub fn render(&self, jobs: &[(String, &'static str, u64)]) -> String {
        let mut t = Text::default();
        t.family(
            "chime_fires_total",
            "counter",
            "Fire instants that made a job.",
        )
        .sample("chime_fires_total", &[], get(&self.fires));
        t.family(
            "chime_missed_fires_total",
            "counter",
            "Fire instants not run because no instance fired them in time, by misfire policy.",
        );
        for (p, c) in POLICIES.iter().zip(&self.missed) {
            t.sample(
                "chime_missed_fires_total",
                &[("policy", policy_name(*p))],
                get(c),
            );
        }
        t.family(
            "chime_skipped_fires_total",
            "counter",
            "Fire instants deliberately not run, by reason.",
        );
        for reason in ["overlap", "paused"] {
            let n = self.skipped.get(reason);
            t.sample("chime_skipped_fires_total", &[("reason", reason)], get(&n));
        }
        t.family(
            "chime_fire_lateness_seconds",
            "histogram",
            "Scheduled instant to job start, for jobs made by schedules.",
        )
        .histogram("chime_fire_lateness_seconds", &[], &self.fire_lateness);
        t.family(
            "chime_fire_write_lateness_seconds",
            "histogram",
            "Scheduled instant to the fire being durable in the store.",
        )
        .histogram(
            "chime_fire_write_lateness_seconds",
            &[],
            &self.fire_write_lateness,
        );
        t.family(
            "chime_jobs",
            "gauge",
            "Jobs in the store by queue and state (all instances).",
        );
        for (queue, state, n) in jobs {
            t.sample(
                "chime_jobs",
                &[("queue", queue), ("state", state)],
                *n as f64,
            );
        }
        let queues = self.queues.entries();
        t.family(
            "chime_job_attempts_total",
            "counter",
            "Job executions ended on this instance, by queue and outcome.",
        );
        for (queue, q) in &queues {
            for (o, c) in OUTCOMES.iter().zip(&q.attempts) {
                t.sample(
                    "chime_job_attempts_total",
                    &[("queue", queue), ("outcome", o.as_str())],
                    get(c),
                );
            }
        }
        t.family(
            "chime_job_retries_total",
            "counter",
            "Failed attempts scheduled to run again.",
        );
        for (queue, q) in &queues {
            t.sample(
                "chime_job_retries_total",
                &[("queue", queue)],
                get(&q.retries),
            );
        }
        t.family(
            "chime_jobs_dead_total",
            "counter",
            "Jobs that failed for good (no attempts left).",
        );
        for (queue, q) in &queues {
            t.sample("chime_jobs_dead_total", &[("queue", queue)], get(&q.dead));
        }
        t.family(
            "chime_job_duration_seconds",
            "histogram",
            "Time one execution took.",
        );
        for (queue, q) in &queues {
            t.histogram(
                "chime_job_duration_seconds",
                &[("queue", queue)],
                &q.duration,
            );
        }
        t.family(
            "chime_job_start_lateness_seconds",
            "histogram",
            "A job's run_at to its start on a worker.",
        );
        for (queue, q) in &queues {
            t.histogram(
                "chime_job_start_lateness_seconds",
                &[("queue", queue)],
                &q.start_lateness,
            );
        }
        t.family(
            "chime_jobs_rescued_total",
            "counter",
            "Jobs of dead workers whose lease expired, put back or made dead.",
        )
        .sample("chime_jobs_rescued_total", &[], get(&self.rescued));
        t.family(
            "chime_job_leases_lost_total",
            "counter",
            "Running jobs stopped because their lease was lost or they were cancelled.",
        )
        .sample("chime_job_leases_lost_total", &[], get(&self.lease_lost));
        t.family(
            "chime_bucket_leases_held",
            "gauge",
            "Schedule buckets this instance leases.",
        )
        .sample("chime_bucket_leases_held", &[], get(&self.buckets_held));
        t.family(
            "chime_lease_takeovers_total",
            "counter",
            "Bucket leases taken over from another instance.",
        )
        .sample(
            "chime_lease_takeovers_total",
            &[],
            get(&self.lease_takeovers),
        );
        t.family(
            "chime_stale_epoch_rejections_total",
            "counter",
            "Fires the store refused because this instance's lease was stale (fencing).",
        )
        .sample(
            "chime_stale_epoch_rejections_total",
            &[],
            get(&self.stale_epochs),
        );
        let calls = self.store_calls.entries();
        t.family(
            "chime_store_call_duration_seconds",
            "histogram",
            "Store calls by operation.",
        );
        for (op, c) in &calls {
            t.histogram(
                "chime_store_call_duration_seconds",
                &[("op", op)],
                &c.duration,
            );
        }
        t.family(
            "chime_store_call_errors_total",
            "counter",
            "Store calls that failed, by operation.",
        );
        for (op, c) in &calls {
            t.sample(
                "chime_store_call_errors_total",
                &[("op", op)],
                get(&c.errors),
            );
        }
        t.finish()
    }
}

pub use text::CONTENT_TYPE;

impl Metrics {
    /// Shared by the engine's parts and the API.
    pub fn shared() -> Arc<Metrics> {
        Arc::new(Metrics::default())
    }
}
