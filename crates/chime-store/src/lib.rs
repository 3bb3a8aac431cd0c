//! The storage seam (DESIGN §5): the only way the engine touches storage.
//!
//! Every backend implements [`Store`] and passes the conformance suite in
//! `tests/conformance`, which is what "a backend is done" means. Operations
//! are batch-first and atomic; time-sensitive ones read the store's clock
//! unless the caller pins `now` (tests do, to drive time without sleeping).

mod changes;
mod error;
mod firing;
mod jobs_common;
mod membership;
mod params;
pub mod postgres;
pub mod redis;
mod rows;
mod sql_shared;
pub mod sqlite;
mod tokens;

pub use changes::{Changed, ScheduleChanges, MAX_CHANGED_IDS};
pub use error::StoreError;
pub use params::*;

use async_trait::async_trait;
use chime_core::model::{Attempt, Job, Occurrence, Schedule, Token};
use jiff::Timestamp;
use std::sync::Arc;
use tokio::sync::Notify;

/// What a backend wakes when another instance changed something.
#[derive(Clone, Default)]
pub struct Wakers {
    /// New or retried jobs may be due: every idle worker lane looks.
    pub jobs: Arc<Notify>,
    /// Schedules were created, edited or deleted: the scheduler reads them.
    pub schedules: Arc<ScheduleChanges>,
}

impl Wakers {
    pub fn wake_all(&self) {
        self.jobs.notify_waiters();
        self.schedules.changed_all();
    }

    /// A schedule-change message's payload: a schedule id, or empty (as
    /// older instances send) for any.
    pub fn schedule_message(&self, payload: &str) {
        match payload {
            "" => self.schedules.changed_all(),
            id => self.schedules.changed(id),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The store's clock (DESIGN §2.6): lease expiry and due-ness are decided on it.
    async fn now(&self) -> Result<Timestamp>;

    /// Forwards the backend's change announcements from other instances
    /// (PostgreSQL NOTIFY, Redis pub/sub) to `wakers` for as long as the
    /// process runs. Backends with one instance per store have none.
    async fn watch(&self, wakers: Wakers) -> Result<()> {
        let _ = wakers;
        Ok(())
    }

    async fn schedules_create(&self, p: ScheduleCreate) -> Result<Schedule>;
    async fn schedules_get(&self, id: &str) -> Result<Option<Schedule>>;
    async fn schedules_list(&self, p: ScheduleList) -> Result<Vec<Schedule>>;
    /// Replaces the spec if `expected_version` matches (or is `None`).
    async fn schedules_update(&self, p: ScheduleUpdate) -> Result<Schedule>;
    async fn schedules_delete(&self, id: &str) -> Result<bool>;
    /// Unpaused schedules in `buckets` whose next fire is at or before `until`.
    async fn schedules_due(&self, p: SchedulesDue) -> Result<Vec<Schedule>>;

    /// Applies fires atomically: for each, checks the bucket lease and the
    /// schedule's expected next fire, records the occurrences (unique per
    /// fire key), makes their jobs, and advances the schedule.
    async fn fire(&self, p: FireBatch) -> Result<Vec<FireResult>>;

    /// Takes or renews leases on `buckets` for `owner`; returns those held.
    async fn buckets_acquire(&self, p: BucketsAcquire) -> Result<Vec<BucketLease>>;
    async fn buckets_release(&self, owner: &str, buckets: &[u32]) -> Result<()>;
    async fn buckets_list(&self) -> Result<Vec<BucketLease>>;

    /// Registers or renews `id`; returns every live instance (its own
    /// included), sorted by id. Expired entries are removed.
    async fn instances_beat(&self, p: InstanceBeat) -> Result<Vec<Instance>>;
    /// Deregisters at once (a clean shutdown), so the others rebalance
    /// without waiting for the entry to expire.
    async fn instances_leave(&self, id: &str) -> Result<()>;
    /// The live instances by the store's clock, sorted by id (read-only).
    async fn instances_list(&self) -> Result<Vec<Instance>>;

    async fn jobs_enqueue(&self, jobs: Vec<NewJob>) -> Result<Vec<Enqueued>>;
    /// Up to `limit` due jobs by priority (highest first), then `run_at`.
    async fn jobs_claim(&self, p: JobsClaim) -> Result<Vec<ClaimedJob>>;
    /// Extends a lease; `LeaseLost` if the lease is stale or the job was cancelled.
    async fn jobs_heartbeat(&self, p: JobsHeartbeat) -> Result<Timestamp>;
    /// Records outcomes; each is applied only under its current lease.
    async fn jobs_complete(&self, p: JobsComplete) -> Result<Vec<Result<()>>>;
    /// Expired leases: the attempt counts; the job is retried or dead.
    async fn jobs_rescue(&self, p: JobsRescue) -> Result<Vec<String>>;
    async fn jobs_cancel(&self, id: &str) -> Result<Job>;
    async fn jobs_retry(&self, id: &str) -> Result<Job>;
    async fn jobs_delete(&self, id: &str) -> Result<bool>;
    async fn jobs_get(&self, id: &str) -> Result<Option<Job>>;
    async fn jobs_list(&self, p: JobsList) -> Result<Vec<Job>>;
    async fn attempts_list(&self, job_id: &str) -> Result<Vec<Attempt>>;
    async fn occurrences_list(&self, p: OccurrencesList) -> Result<Vec<Occurrence>>;

    async fn queues_stats(&self) -> Result<Vec<QueueStats>>;
    async fn queues_set_paused(&self, queue: &str, paused: bool) -> Result<()>;

    /// Deletes finished jobs (with their attempts) and ledger entries older
    /// than the given instants.
    async fn retention_prune(&self, p: RetentionPrune) -> Result<PruneCounts>;

    /// Stores a token; `Conflict`-free: ids and hashes are fresh.
    async fn tokens_create(&self, p: TokenCreate) -> Result<Token>;
    /// The token whose secret hashes to `hash`.
    async fn tokens_find(&self, hash: &str) -> Result<Option<Token>>;
    /// Every token, oldest first.
    async fn tokens_list(&self) -> Result<Vec<Token>>;
    async fn tokens_delete(&self, id: &str) -> Result<bool>;
}
