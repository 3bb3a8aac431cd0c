//! The PostgreSQL backend: many instances on one database.
//!
//! Claims take rows with `FOR UPDATE SKIP LOCKED`, so claimers never wait
//! for each other; a fire locks its bucket leases `FOR SHARE` and its
//! schedules in id order, so a new owner waits for a fire in progress and
//! firers never deadlock. Time is the database's clock, read once per
//! operation (DESIGN §2.6). New jobs and schedule edits are announced with
//! `NOTIFY`, which [`Store::watch`] turns into wake-ups on every instance.
//!
//! Durability (DESIGN §2.3): a call returns after COMMIT, so with
//! PostgreSQL's default `synchronous_commit = on` an accepted write survives
//! a crash of the database host.

mod buckets;
mod fire;
mod jobs;
mod schedules;

use crate::params::*;
use crate::{Result, Store, Wakers};
use async_trait::async_trait;
use chime_core::model::{Attempt, Job, Occurrence, Schedule};
use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sqlx::PgConnection;
use std::str::FromStr;
use std::time::Duration;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_init.sql")),
    (2, include_str!("migrations/0002_instances.sql")),
];

/// Any fixed number: instances starting at once migrate one at a time.
const MIGRATION_LOCK: i64 = 0x0063_6869_6d65;

const JOBS_CHANNEL: &str = "chime_jobs";
const SCHEDULES_CHANNEL: &str = "chime_schedules";

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `postgres://…` (every libpq-style option sqlx accepts)
    /// and migrates the database.
    pub async fn open(url: &str) -> Result<PostgresStore> {
        let options = PgConnectOptions::from_str(url)?
            .application_name("chime")
            // chime's statements are key lookups and ordered index scans.
            // On a table that filled faster than autoanalyze ran, the
            // planner took the claim for a bitmap scan plus a sort of every
            // pending job (8-15 ms a claim at 50,000 jobs, 3,700 jobs/s);
            // without bitmap scans it walks the claim index: 13,700 jobs/s.
            .options([
                ("enable_bitmapscan", "off"),
                // An instance frozen mid-transaction (SIGSTOP, a VM pause)
                // would hold its bucket and schedule locks, and with them
                // every other instance's takeover, until it woke up.
                ("idle_in_transaction_session_timeout", "3000"),
            ]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        migrate(&pool).await?;
        Ok(PostgresStore { pool })
    }

    /// The database's clock, unless the caller pinned one.
    async fn now_or(
        &self,
        conn: &mut PgConnection,
        pinned: Option<Timestamp>,
    ) -> Result<Timestamp> {
        match pinned {
            Some(t) => Ok(t),
            None => db_now(conn).await,
        }
    }
}

async fn db_now(conn: &mut PgConnection) -> Result<Timestamp> {
    let ms: i64 = sqlx::query_scalar(include_str!("sql/now.sql"))
        .fetch_one(conn)
        .await?;
    crate::rows::ts(ms)
}

async fn notify(conn: &mut PgConnection, channel: &str) -> Result<()> {
    sqlx::query(include_str!("sql/notify.sql"))
        .bind(channel)
        .execute(conn)
        .await?;
    Ok(())
}

async fn migrate(pool: &PgPool) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS chime_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .execute(&mut *tx)
        .await?;
    for (version, sql) in MIGRATIONS {
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM chime_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_none() {
            sqlx::raw_sql(*sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO chime_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(version)
                .bind(Timestamp::now().as_millisecond())
                .execute(&mut *tx)
                .await?;
            tracing::info!(version, "applied postgres migration");
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Forwards NOTIFYs to the wakers; reconnects (and wakes everyone, since
/// notifications may have been missed) when the connection drops.
async fn listen(pool: PgPool, wakers: Wakers) {
    loop {
        let listener = async {
            let mut l = PgListener::connect_with(&pool).await?;
            l.listen_all([JOBS_CHANNEL, SCHEDULES_CHANNEL]).await?;
            Ok::<_, sqlx::Error>(l)
        }
        .await;
        match listener {
            Ok(mut l) => {
                wakers.wake_all();
                loop {
                    match l.recv().await {
                        Ok(n) if n.channel() == SCHEDULES_CHANNEL => wakers.schedules.notify_one(),
                        Ok(_) => wakers.jobs.notify_waiters(),
                        Err(e) => {
                            tracing::warn!(error = %e, "postgres LISTEN connection lost; reconnecting");
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "postgres LISTEN failed; retrying"),
        }
        if pool.is_closed() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn now(&self) -> Result<Timestamp> {
        let mut conn = self.pool.acquire().await?;
        db_now(&mut conn).await
    }

    async fn watch(&self, wakers: Wakers) -> Result<()> {
        tokio::spawn(listen(self.pool.clone(), wakers));
        Ok(())
    }

    async fn schedules_create(&self, p: ScheduleCreate) -> Result<Schedule> {
        self.schedule_create(p).await
    }
    async fn schedules_get(&self, id: &str) -> Result<Option<Schedule>> {
        self.schedule_get(id).await
    }
    async fn schedules_list(&self, p: ScheduleList) -> Result<Vec<Schedule>> {
        self.schedule_list(p).await
    }
    async fn schedules_update(&self, p: ScheduleUpdate) -> Result<Schedule> {
        self.schedule_update(p).await
    }
    async fn schedules_delete(&self, id: &str) -> Result<bool> {
        self.schedule_delete(id).await
    }
    async fn schedules_due(&self, p: SchedulesDue) -> Result<Vec<Schedule>> {
        self.schedule_due(p).await
    }

    async fn fire(&self, p: FireBatch) -> Result<Vec<FireResult>> {
        self.fire_batch(p).await
    }

    async fn buckets_acquire(&self, p: BucketsAcquire) -> Result<Vec<BucketLease>> {
        self.bucket_acquire(p).await
    }
    async fn buckets_release(&self, owner: &str, buckets: &[u32]) -> Result<()> {
        self.bucket_release(owner, buckets).await
    }
    async fn buckets_list(&self) -> Result<Vec<BucketLease>> {
        self.bucket_list().await
    }
    async fn instances_beat(&self, p: InstanceBeat) -> Result<Vec<Instance>> {
        self.instance_beat(p).await
    }
    async fn instances_leave(&self, id: &str) -> Result<()> {
        self.instance_leave(id).await
    }

    async fn jobs_enqueue(&self, jobs: Vec<NewJob>) -> Result<Vec<Enqueued>> {
        self.job_enqueue(jobs).await
    }
    async fn jobs_claim(&self, p: JobsClaim) -> Result<Vec<ClaimedJob>> {
        self.job_claim(p).await
    }
    async fn jobs_heartbeat(&self, p: JobsHeartbeat) -> Result<Timestamp> {
        self.job_heartbeat(p).await
    }
    async fn jobs_complete(&self, p: JobsComplete) -> Result<Vec<Result<()>>> {
        self.job_complete(p).await
    }
    async fn jobs_rescue(&self, p: JobsRescue) -> Result<Vec<String>> {
        self.job_rescue(p).await
    }
    async fn jobs_cancel(&self, id: &str) -> Result<Job> {
        self.job_cancel(id).await
    }
    async fn jobs_retry(&self, id: &str) -> Result<Job> {
        self.job_retry(id).await
    }
    async fn jobs_delete(&self, id: &str) -> Result<bool> {
        self.job_delete(id).await
    }
    async fn jobs_get(&self, id: &str) -> Result<Option<Job>> {
        self.job_get(id).await
    }
    async fn jobs_list(&self, p: JobsList) -> Result<Vec<Job>> {
        self.job_list(p).await
    }
    async fn attempts_list(&self, job_id: &str) -> Result<Vec<Attempt>> {
        self.attempt_list(job_id).await
    }
    async fn occurrences_list(&self, p: OccurrencesList) -> Result<Vec<Occurrence>> {
        self.occurrence_list(p).await
    }

    async fn queues_stats(&self) -> Result<Vec<QueueStats>> {
        self.queue_stats().await
    }
    async fn queues_set_paused(&self, queue: &str, paused: bool) -> Result<()> {
        self.queue_set_paused(queue, paused).await
    }

    async fn retention_prune(&self, p: RetentionPrune) -> Result<PruneCounts> {
        self.prune(p).await
    }
}
