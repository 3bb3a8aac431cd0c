//! A [`Store`] that times every call into `chime_store_call_duration_seconds`.

use super::Metrics;
use async_trait::async_trait;
use chime_core::model::{Attempt, Job, Occurrence, Schedule, Token};
use chime_store::*;
use jiff::Timestamp;
use std::sync::Arc;
use std::time::Instant;

pub struct MeteredStore {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl MeteredStore {
    pub fn wrap(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Arc<dyn Store> {
        Arc::new(MeteredStore { inner, metrics })
    }
}

macro_rules! metered {
    ($( fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        #[async_trait]
        impl Store for MeteredStore {
            async fn watch(&self, wakers: Wakers) -> Result<()> {
                self.inner.watch(wakers).await
            }
            $(
                async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    let started = Instant::now();
                    let result = self.inner.$name($($arg),*).await;
                    self.metrics.store_call(stringify!($name), started, result.is_err());
                    result
                }
            )*
        }
    };
}

metered! {
    fn now(&self) -> Result<Timestamp>;
    fn schedules_create(&self, p: ScheduleCreate) -> Result<Schedule>;
    fn schedules_get(&self, id: &str) -> Result<Option<Schedule>>;
    fn schedules_list(&self, p: ScheduleList) -> Result<Vec<Schedule>>;
    fn schedules_update(&self, p: ScheduleUpdate) -> Result<Schedule>;
    fn schedules_delete(&self, id: &str) -> Result<bool>;
    fn schedules_due(&self, p: SchedulesDue) -> Result<Vec<Schedule>>;
    fn fire(&self, p: FireBatch) -> Result<Vec<FireResult>>;
    fn buckets_acquire(&self, p: BucketsAcquire) -> Result<Vec<BucketLease>>;
    fn buckets_release(&self, owner: &str, buckets: &[u32]) -> Result<()>;
    fn buckets_list(&self) -> Result<Vec<BucketLease>>;
    fn instances_beat(&self, p: InstanceBeat) -> Result<Vec<Instance>>;
    fn instances_leave(&self, id: &str) -> Result<()>;
    fn instances_list(&self) -> Result<Vec<Instance>>;
    fn jobs_enqueue(&self, jobs: Vec<NewJob>) -> Result<Vec<Enqueued>>;
    fn jobs_claim(&self, p: JobsClaim) -> Result<Vec<ClaimedJob>>;
    fn jobs_heartbeat(&self, p: JobsHeartbeat) -> Result<Timestamp>;
    fn jobs_complete(&self, p: JobsComplete) -> Result<Vec<Result<()>>>;
    fn jobs_rescue(&self, p: JobsRescue) -> Result<Vec<String>>;
    fn jobs_cancel(&self, id: &str) -> Result<Job>;
    fn jobs_retry(&self, id: &str) -> Result<Job>;
    fn jobs_delete(&self, id: &str) -> Result<bool>;
    fn jobs_get(&self, id: &str) -> Result<Option<Job>>;
    fn jobs_list(&self, p: JobsList) -> Result<Vec<Job>>;
    fn attempts_list(&self, job_id: &str) -> Result<Vec<Attempt>>;
    fn occurrences_list(&self, p: OccurrencesList) -> Result<Vec<Occurrence>>;
    fn queues_stats(&self) -> Result<Vec<QueueStats>>;
    fn queues_set_paused(&self, queue: &str, paused: bool) -> Result<()>;
    fn retention_prune(&self, p: RetentionPrune) -> Result<PruneCounts>;
    fn tokens_create(&self, p: TokenCreate) -> Result<Token>;
    fn tokens_find(&self, hash: &str) -> Result<Option<Token>>;
    fn tokens_list(&self) -> Result<Vec<Token>>;
    fn tokens_delete(&self, id: &str) -> Result<bool>;
}
