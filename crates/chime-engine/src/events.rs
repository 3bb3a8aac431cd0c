//! In-process signals and counters shared by the engine's parts: the API
//! tells the scheduler that schedules changed, the scheduler tells workers
//! that jobs are ready, and everyone counts what happened ([`Metrics`]).

use crate::metrics::Metrics;
use crate::notify::Notifier;
use chime_core::model::MisfirePolicy;
use chime_store::ScheduleChanges;
use jiff::SignedDuration;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone, Default)]
pub struct Events {
    schedules_changed: Arc<ScheduleChanges>,
    jobs_ready: Arc<Notify>,
    pub metrics: Arc<Metrics>,
    /// Failure webhooks; set by the engine, off in bare `Events::new()`.
    pub notifier: Notifier,
}

impl Events {
    pub fn new() -> Events {
        Events::default()
    }

    pub fn schedules_changed(&self) -> Arc<ScheduleChanges> {
        self.schedules_changed.clone()
    }

    /// Schedule `id` was created, edited or deleted through this process.
    pub fn schedule_changed(&self, id: &str) {
        self.schedules_changed.changed(id);
    }

    pub fn jobs_ready_signal(&self) -> Arc<Notify> {
        self.jobs_ready.clone()
    }

    pub fn jobs_ready(&self) {
        self.jobs_ready.notify_waiters();
    }

    /// One schedule's fire applied: `jobs` made, `missed` fires recorded
    /// under `policy`, written `lateness` after its instant.
    pub(crate) fn fired(
        &self,
        jobs: usize,
        missed: (MisfirePolicy, u64),
        lateness: SignedDuration,
        skipped_overlap: bool,
    ) {
        let m = &self.metrics;
        m.fires.fetch_add(jobs as u64, Ordering::Relaxed);
        if missed.1 > 0 {
            m.missed(missed.0, missed.1);
        }
        if skipped_overlap {
            m.skipped("overlap", 1);
        }
        m.fire_write_lateness.observe(lateness);
    }

    pub(crate) fn stale_epoch(&self) {
        self.metrics.stale_epochs.fetch_add(1, Ordering::Relaxed);
    }
}
