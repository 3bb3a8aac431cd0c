//! What the SQL backends share beyond statements: the filtered listing
//! queries (QueryBuilder writes each backend's placeholders), the errors of
//! operations that matched no row, and the `Store` impl that delegates to
//! each backend's inherent methods.

use crate::params::{JobsList, ScheduleList};
use crate::StoreError;
use sqlx::{Database, Encode, QueryBuilder, Type};

/// A backend's claim statements, indexed by whether the claim is ahead:
/// the pick of due jobs or of jobs not yet due, then the update both
/// share. Expanded in each backend, so the paths are its `sql/` files.
macro_rules! claim_statements {
    () => {
        [
            concat!(
                include_str!("sql/jobs_pick_due.sql"),
                include_str!("sql/jobs_claim.sql")
            ),
            concat!(
                include_str!("sql/jobs_pick_early.sql"),
                include_str!("sql/jobs_claim.sql")
            ),
        ]
    };
}
pub(crate) use claim_statements;

/// Jobs newest first, filters added only when given: `(? IS NULL OR col =
/// ?)` would keep the planner from using the indexes.
pub(crate) fn jobs_list_query<'a, DB>(p: JobsList) -> QueryBuilder<DB>
where
    DB: Database,
    DB::Arguments: Default,
    String: Encode<'a, DB> + Type<DB>,
    &'static str: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::<DB>::new("SELECT * FROM jobs WHERE 1 = 1");
    if let Some(ns) = p.namespace {
        q.push(" AND namespace = ").push_bind(ns);
    }
    if let Some(queue) = p.queue {
        q.push(" AND queue = ").push_bind(queue);
    }
    if let Some(state) = p.state {
        q.push(" AND state = ").push_bind(state.as_str());
    }
    if let Some(schedule) = p.schedule_id {
        q.push(" AND schedule_id = ").push_bind(schedule);
    }
    if let Some(before) = p.before_id {
        q.push(" AND id < ").push_bind(before);
    }
    q.push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(p.limit));
    q
}

/// Schedules in id order. `position` is the backend's substring-position
/// function (`instr` on SQLite, `strpos` on PostgreSQL; same arguments).
pub(crate) fn schedules_list_query<'a, DB>(p: ScheduleList, position: &str) -> QueryBuilder<DB>
where
    DB: Database,
    DB::Arguments: Default,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::<DB>::new("SELECT * FROM schedules WHERE 1 = 1");
    if let Some(ns) = p.namespace {
        q.push(" AND namespace = ").push_bind(ns);
    }
    if let Some(search) = p.search {
        q.push(format!(" AND {position}(lower(name), lower("))
            .push_bind(search)
            .push(")) > 0");
    }
    if let Some(after) = p.after_id {
        q.push(" AND id > ").push_bind(after);
    }
    q.push(" ORDER BY id LIMIT ").push_bind(i64::from(p.limit));
    q
}

/// Why a versioned schedule update matched no row: `found` is the stored
/// version, if the schedule exists.
pub(crate) fn update_refused(id: &str, found: Option<i64>, expected: Option<u64>) -> StoreError {
    match (found, expected) {
        (Some(found), Some(expected)) => StoreError::Conflict {
            expected,
            found: found as u64,
        },
        _ => StoreError::NotFound(format!("schedule {id}")),
    }
}

/// Why a job operation matched no row: the job is missing, or in `state`.
pub(crate) fn job_not_applicable(id: &str, state: Option<String>, op: &str) -> StoreError {
    match state {
        None => StoreError::NotFound(format!("job {id}")),
        Some(state) => StoreError::InvalidState(format!("cannot {op} a job that is {state}")),
    }
}

/// Whether a job in `state` may be deleted: `None` when it does not exist.
pub(crate) fn deletable(state: Option<&str>) -> crate::Result<bool> {
    match state {
        None => Ok(false),
        Some("running") => Err(StoreError::InvalidState(
            "job is running: cancel it before deleting it".into(),
        )),
        Some(_) => Ok(true),
    }
}

/// `impl Store` for a SQL backend whose inherent methods carry the work
/// (`schedule_create`, `job_claim`, …); `now` and `watch` are its own.
/// Tokens run the shared statements of [`crate::tokens`] with the backend's
/// `TOKEN_SQL` on its `token_pools()` (reader, writer).
macro_rules! delegate_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::Store for $store {
            async fn now(&self) -> $crate::Result<jiff::Timestamp> {
                self.store_now().await
            }
            async fn watch(&self, wakers: $crate::Wakers) -> $crate::Result<()> {
                self.store_watch(wakers).await
            }
            async fn schedules_create(&self, p: ScheduleCreate) -> $crate::Result<Schedule> {
                self.schedule_create(p).await
            }
            async fn schedules_get(&self, id: &str) -> $crate::Result<Option<Schedule>> {
                self.schedule_get(id).await
            }
            async fn schedules_list(&self, p: ScheduleList) -> $crate::Result<Vec<Schedule>> {
                self.schedule_list(p).await
            }
            async fn schedules_update(&self, p: ScheduleUpdate) -> $crate::Result<Schedule> {
                self.schedule_update(p).await
            }
            async fn schedules_delete(&self, id: &str) -> $crate::Result<bool> {
                self.schedule_delete(id).await
            }
            async fn schedules_due(&self, p: SchedulesDue) -> $crate::Result<Vec<Schedule>> {
                self.schedule_due(p).await
            }
            async fn fire(&self, p: FireBatch) -> $crate::Result<Vec<FireResult>> {
                self.fire_batch(p).await
            }
            async fn buckets_acquire(&self, p: BucketsAcquire) -> $crate::Result<Vec<BucketLease>> {
                self.bucket_acquire(p).await
            }
            async fn buckets_release(&self, owner: &str, buckets: &[u32]) -> $crate::Result<()> {
                self.bucket_release(owner, buckets).await
            }
            async fn buckets_list(&self) -> $crate::Result<Vec<BucketLease>> {
                self.bucket_list().await
            }
            async fn instances_beat(&self, p: InstanceBeat) -> $crate::Result<Vec<Instance>> {
                self.instance_beat(p).await
            }
            async fn instances_leave(&self, id: &str) -> $crate::Result<()> {
                self.instance_leave(id).await
            }
            async fn instances_list(&self) -> $crate::Result<Vec<Instance>> {
                self.instance_list().await
            }
            async fn tokens_create(
                &self,
                p: TokenCreate,
            ) -> $crate::Result<chime_core::model::Token> {
                let now = match p.now {
                    Some(t) => t,
                    None => self.store_now().await?,
                };
                let (_, writer) = self.token_pools();
                $crate::tokens::create(writer, &TOKEN_SQL, p, now).await
            }
            async fn tokens_find(
                &self,
                hash: &str,
            ) -> $crate::Result<Option<chime_core::model::Token>> {
                $crate::tokens::find(self.token_pools().0, &TOKEN_SQL, hash).await
            }
            async fn tokens_list(&self) -> $crate::Result<Vec<chime_core::model::Token>> {
                $crate::tokens::list(self.token_pools().0, &TOKEN_SQL).await
            }
            async fn tokens_delete(&self, id: &str) -> $crate::Result<bool> {
                $crate::tokens::delete(self.token_pools().1, &TOKEN_SQL, id).await
            }
            async fn jobs_enqueue(&self, jobs: Vec<NewJob>) -> $crate::Result<Vec<Enqueued>> {
                self.job_enqueue(jobs).await
            }
            async fn jobs_claim(&self, p: JobsClaim) -> $crate::Result<Vec<ClaimedJob>> {
                self.job_claim(p).await
            }
            async fn jobs_heartbeat(&self, p: JobsHeartbeat) -> $crate::Result<jiff::Timestamp> {
                self.job_heartbeat(p).await
            }
            async fn jobs_complete(
                &self,
                p: JobsComplete,
            ) -> $crate::Result<Vec<$crate::Result<()>>> {
                self.job_complete(p).await
            }
            async fn jobs_rescue(&self, p: JobsRescue) -> $crate::Result<Vec<String>> {
                self.job_rescue(p).await
            }
            async fn jobs_cancel(&self, id: &str) -> $crate::Result<Job> {
                self.job_cancel(id).await
            }
            async fn jobs_retry(&self, id: &str) -> $crate::Result<Job> {
                self.job_retry(id).await
            }
            async fn jobs_delete(&self, id: &str) -> $crate::Result<bool> {
                self.job_delete(id).await
            }
            async fn jobs_get(&self, id: &str) -> $crate::Result<Option<Job>> {
                self.job_get(id).await
            }
            async fn jobs_list(&self, p: JobsList) -> $crate::Result<Vec<Job>> {
                self.job_list(p).await
            }
            async fn attempts_list(&self, job_id: &str) -> $crate::Result<Vec<Attempt>> {
                self.attempt_list(job_id).await
            }
            async fn occurrences_list(
                &self,
                p: OccurrencesList,
            ) -> $crate::Result<Vec<Occurrence>> {
                self.occurrence_list(p).await
            }
            async fn queues_stats(&self) -> $crate::Result<Vec<QueueStats>> {
                self.queue_stats().await
            }
            async fn queues_set_paused(&self, queue: &str, paused: bool) -> $crate::Result<()> {
                self.queue_set_paused(queue, paused).await
            }
            async fn retention_prune(&self, p: RetentionPrune) -> $crate::Result<PruneCounts> {
                self.prune(p).await
            }
        }
    };
}
pub(crate) use delegate_store;
