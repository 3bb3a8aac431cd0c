//! In-process signals and counters shared by the engine's parts: the API
//! tells the scheduler that schedules changed, the scheduler tells workers
//! that jobs are ready, and everyone counts what happened (for `/metrics`).

use jiff::SignedDuration;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// Upper bounds (ms) of the lateness histogram buckets; the last is +Inf.
pub const LATENESS_BOUNDS_MS: [u64; 12] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; 13],
    sum_us: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: SignedDuration) {
        let us = d.as_micros().max(0) as u64;
        let ms = us / 1000;
        let i = LATENESS_BOUNDS_MS
            .iter()
            .position(|b| ms < *b)
            .unwrap_or(LATENESS_BOUNDS_MS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Upper bound (ms) of the bucket holding quantile `q`; `None` when
    /// empty, `u64::MAX` when it falls in the +Inf bucket.
    pub fn quantile_upper_ms(&self, q: f64) -> Option<u64> {
        let (cumulative, _, count) = self.snapshot();
        if count == 0 {
            return None;
        }
        let rank = (q * count as f64).ceil() as u64;
        let i = cumulative.iter().position(|c| *c >= rank)?;
        Some(LATENESS_BOUNDS_MS.get(i).copied().unwrap_or(u64::MAX))
    }

    /// Cumulative counts per bound (Prometheus `le`), then sum (s) and count.
    pub fn snapshot(&self) -> (Vec<u64>, f64, u64) {
        let mut acc = 0;
        let cumulative = self
            .buckets
            .iter()
            .map(|b| {
                acc += b.load(Ordering::Relaxed);
                acc
            })
            .collect();
        (
            cumulative,
            self.sum_us.load(Ordering::Relaxed) as f64 / 1e6,
            self.count.load(Ordering::Relaxed),
        )
    }
}

#[derive(Default)]
pub struct Counters {
    pub fires: AtomicU64,
    pub jobs_from_fires: AtomicU64,
    pub skipped_overlap: AtomicU64,
    pub stale_epochs: AtomicU64,
    pub attempts: AtomicU64,
    pub succeeded: AtomicU64,
    pub retried: AtomicU64,
    pub dead: AtomicU64,
    pub timed_out: AtomicU64,
    pub lease_lost: AtomicU64,
    pub rescued: AtomicU64,
    /// Scheduled instant → fire written.
    pub fire_lateness: Histogram,
    /// Scheduled instant (or run_at) → job start on a worker.
    pub start_lateness: Histogram,
    /// Duration of the store's fire call (one batch).
    pub fire_write: Histogram,
}

#[derive(Clone, Default)]
pub struct Events {
    schedules_changed: Arc<Notify>,
    jobs_ready: Arc<Notify>,
    pub counters: Arc<Counters>,
}

impl Events {
    pub fn new() -> Events {
        Events::default()
    }

    pub fn schedules_changed(&self) -> Arc<Notify> {
        self.schedules_changed.clone()
    }

    pub fn schedule_changed(&self) {
        self.schedules_changed.notify_one();
    }

    pub fn jobs_ready_signal(&self) -> Arc<Notify> {
        self.jobs_ready.clone()
    }

    pub fn jobs_ready(&self) {
        self.jobs_ready.notify_waiters();
    }

    pub(crate) fn fired(&self, jobs: usize, lateness: SignedDuration, skipped_overlap: bool) {
        let c = &self.counters;
        c.fires.fetch_add(1, Ordering::Relaxed);
        c.jobs_from_fires.fetch_add(jobs as u64, Ordering::Relaxed);
        if skipped_overlap {
            c.skipped_overlap.fetch_add(1, Ordering::Relaxed);
        }
        c.fire_lateness.observe(lateness);
    }

    pub(crate) fn stale_epoch(&self) {
        self.counters.stale_epochs.fetch_add(1, Ordering::Relaxed);
    }
}
