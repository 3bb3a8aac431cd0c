//! Jobs on PostgreSQL: enqueue, claim with SKIP LOCKED, heartbeat,
//! complete, rescue expired leases, and the operator's cancel, retry and
//! delete.

use super::{notify, PostgresStore, JOBS_CHANNEL};
use crate::jobs_common::{after_expired_lease, completion_row, with_paused};
use crate::params::*;
use crate::rows::{self, ms, to_json, ts, Cols};
use crate::sql_shared::{deletable, job_not_applicable, jobs_list_query};
use crate::{Result, StoreError};
use chime_core::model::{Attempt, AttemptOutcome, Backoff, Job};
use jiff::Timestamp;
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};

/// Claims of due jobs and of jobs not yet due.
const CLAIM: [&str; 2] = crate::sql_shared::claim_statements!();

impl PostgresStore {
    /// One statement (insert and NOTIFY); a further query only for jobs a
    /// unique key kept out.
    pub(super) async fn job_enqueue(&self, jobs: Vec<NewJob>) -> Result<Vec<Enqueued>> {
        let all: Vec<&NewJob> = jobs.iter().collect();
        let mut conn = self.pool.acquire().await?;
        let inserted = insert_jobs(&mut conn, &all, None).await?;
        let mut out = Vec::with_capacity(jobs.len());
        for job in &jobs {
            if inserted.contains(&job.id) {
                out.push(Enqueued {
                    id: job.id.clone(),
                    duplicate: false,
                });
                continue;
            }
            // Only a unique key held by an active job keeps a job out.
            let existing: Option<String> =
                sqlx::query_scalar(include_str!("sql/job_find_unique.sql"))
                    .bind(&job.namespace)
                    .bind(&job.unique_key)
                    .fetch_optional(&mut *conn)
                    .await?;
            let id = existing.ok_or_else(|| {
                StoreError::InvalidState(format!("job {} was not inserted", job.id))
            })?;
            out.push(Enqueued {
                id,
                duplicate: true,
            });
        }
        Ok(out)
    }

    /// One statement, one round trip: the hot path of every worker.
    pub(super) async fn job_claim(&self, p: JobsClaim) -> Result<Vec<ClaimedJob>> {
        let token = uuid::Uuid::now_v7().to_string();
        let sql = CLAIM[usize::from(p.due_after.is_some())];
        let rows = sqlx::query(sql)
            .bind(&p.queues)
            .bind(p.due_by.map(ms))
            .bind(i64::from(p.limit))
            .bind(&p.worker)
            .bind(&token)
            .bind(p.lease.as_millis() as i64)
            .bind(p.now.map(ms))
            .bind(p.due_after.map(ms))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ClaimedJob {
                    job: rows::job(row)?,
                    lease_token: token.clone(),
                    lease_expires_at: ts(row.i64("lease_expires_at")?)?,
                })
            })
            .collect()
    }

    pub(super) async fn job_heartbeat(&self, p: JobsHeartbeat) -> Result<Timestamp> {
        let mut conn = self.pool.acquire().await?;
        let now = self.now_or(&mut conn, p.now).await?;
        let expires = now.saturating_add(p.extend).unwrap_or(now);
        let row: Option<i64> = sqlx::query_scalar(include_str!("sql/job_heartbeat.sql"))
            .bind(&p.job_id)
            .bind(&p.lease_token)
            .bind(ms(expires))
            .bind(ms(now))
            .fetch_optional(&mut *conn)
            .await?;
        row.map(ts).transpose()?.ok_or(StoreError::LeaseLost)
    }

    /// One statement for the jobs and their attempts, whatever the batch
    /// size (plus a NOTIFY when some are retried).
    pub(super) async fn job_complete(&self, p: JobsComplete) -> Result<Vec<Result<()>>> {
        let rows: Vec<_> = p
            .completions
            .iter()
            .map(|c| completion_row(c, p.now))
            .collect();
        let mut tx = self.pool.begin().await?;
        let applied: Vec<(String, i64)> = sqlx::query_as(include_str!("sql/jobs_finish_batch.sql"))
            .bind(to_json(&rows)?)
            .bind(p.now.map(ms))
            .fetch_all(&mut *tx)
            .await?;
        let attempt_of: HashMap<&str, i64> =
            applied.iter().map(|(id, a)| (id.as_str(), *a)).collect();
        if p.completions
            .iter()
            .any(|c| matches!(c.completion, Completion::Retry { .. }))
        {
            notify(&mut tx, JOBS_CHANNEL).await?;
        }
        tx.commit().await?;
        Ok(p.completions
            .iter()
            .map(|c| {
                if attempt_of.contains_key(c.job_id.as_str()) {
                    Ok(())
                } else {
                    Err(StoreError::LeaseLost)
                }
            })
            .collect())
    }

    pub(super) async fn job_rescue(&self, p: JobsRescue) -> Result<Vec<String>> {
        let mut tx = self.pool.begin().await?;
        let now = self.now_or(&mut tx, p.now).await?;
        let expired = sqlx::query(include_str!("sql/jobs_expired.sql"))
            .bind(ms(now))
            .bind(i64::from(p.limit))
            .fetch_all(&mut *tx)
            .await?;
        let mut rescued = Vec::with_capacity(expired.len());
        for row in &expired {
            let id = row.string("id")?;
            let backoff = Backoff {
                initial_ms: row.i64("backoff_initial_ms")? as u64,
                max_ms: row.i64("backoff_max_ms")? as u64,
            };
            let (state, run_at, finished_at) =
                after_expired_lease(row.i64("attempt")?, row.i64("max_attempts")?, &backoff, now);
            let done: Option<i64> = sqlx::query_scalar(include_str!("sql/job_rescue.sql"))
                .bind(&id)
                .bind(state.as_str())
                .bind(ms(run_at))
                .bind(finished_at.map(ms))
                .bind(ms(now))
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(attempt) = done {
                finish_attempt(
                    &mut tx,
                    &id,
                    attempt,
                    now,
                    AttemptOutcome::LeaseExpired,
                    Some("lease expired"),
                )
                .await?;
                rescued.push(id);
            }
        }
        if !rescued.is_empty() {
            notify(&mut tx, JOBS_CHANNEL).await?;
        }
        tx.commit().await?;
        Ok(rescued)
    }

    pub(super) async fn job_cancel(&self, id: &str) -> Result<Job> {
        let mut tx = self.pool.begin().await?;
        let now = self.now_or(&mut tx, None).await?;
        let job = cancel_job(&mut tx, id, now).await?;
        tx.commit().await?;
        match job {
            Some(job) => Ok(job),
            None => Err(self.not_applicable(id, "cancel").await?),
        }
    }

    pub(super) async fn job_retry(&self, id: &str) -> Result<Job> {
        let mut tx = self.pool.begin().await?;
        let now = self.now_or(&mut tx, None).await?;
        let row = sqlx::query(include_str!("sql/job_retry.sql"))
            .bind(id)
            .bind(ms(now))
            .fetch_optional(&mut *tx)
            .await?;
        if row.is_some() {
            notify(&mut tx, JOBS_CHANNEL).await?;
        }
        tx.commit().await?;
        match row {
            Some(row) => rows::job(&row),
            None => Err(self.not_applicable(id, "retry").await?),
        }
    }

    pub(super) async fn job_delete(&self, id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM jobs WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if !deletable(state.as_deref())? {
            return Ok(false);
        }
        sqlx::query("DELETE FROM jobs WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM attempts WHERE job_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The error for an operation that matched no row: missing, or wrong state.
    async fn not_applicable(&self, id: &str, op: &str) -> Result<StoreError> {
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(job_not_applicable(id, state, op))
    }

    pub(super) async fn job_get(&self, id: &str) -> Result<Option<Job>> {
        let row = sqlx::query("SELECT * FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::job).transpose()
    }

    pub(super) async fn job_list(&self, p: JobsList) -> Result<Vec<Job>> {
        let rows = jobs_list_query::<sqlx::Postgres>(p)
            .build()
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rows::job).collect()
    }

    pub(super) async fn attempt_list(&self, job_id: &str) -> Result<Vec<Attempt>> {
        let rows = sqlx::query("SELECT * FROM attempts WHERE job_id = $1 ORDER BY attempt")
            .bind(job_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rows::attempt).collect()
    }

    pub(super) async fn queue_stats(&self) -> Result<Vec<QueueStats>> {
        let mut conn = self.pool.acquire().await?;
        let now = self.now_or(&mut conn, None).await?;
        let rows = sqlx::query(include_str!("sql/queue_stats.sql"))
            .bind(ms(now))
            .fetch_all(&mut *conn)
            .await?;
        let paused: Vec<String> = sqlx::query_scalar("SELECT name FROM queues WHERE paused")
            .fetch_all(&mut *conn)
            .await?;
        let stats = rows
            .iter()
            .map(|row| {
                Ok(QueueStats {
                    queue: row.string("queue")?,
                    paused: false,
                    available: row.i64("available")? as u64,
                    scheduled: row.i64("scheduled")? as u64,
                    running: row.i64("running")? as u64,
                    succeeded: row.i64("succeeded")? as u64,
                    dead: row.i64("dead")? as u64,
                    cancelled: row.i64("cancelled")? as u64,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(with_paused(stats, paused))
    }

    pub(super) async fn queue_set_paused(&self, queue: &str, paused: bool) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(include_str!("sql/queue_set_paused.sql"))
            .bind(queue)
            .bind(paused)
            .execute(&mut *tx)
            .await?;
        if !paused {
            notify(&mut tx, JOBS_CHANNEL).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn prune(&self, p: RetentionPrune) -> Result<PruneCounts> {
        let mut tx = self.pool.begin().await?;
        let (cutoffs, latest) = p.queue_cutoffs();
        let ids: Vec<String> = sqlx::query_scalar(include_str!("sql/prune_jobs.sql"))
            .bind(ms(p.jobs_finished_before))
            .bind(i64::from(p.limit))
            .bind(cutoffs)
            .bind(latest)
            .fetch_all(&mut *tx)
            .await?;
        let occurrences = sqlx::query(include_str!("sql/prune_occurrences.sql"))
            .bind(ms(p.occurrences_before))
            .bind(i64::from(p.limit))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(PruneCounts {
            jobs: ids.len() as u64,
            occurrences,
        })
    }
}

/// Inserts many jobs in one statement; returns the ids inserted (a job
/// whose unique key is taken by an active job is left out).
pub(super) async fn insert_jobs(
    conn: &mut PgConnection,
    jobs: &[&NewJob],
    now: Option<Timestamp>,
) -> Result<HashSet<String>> {
    if jobs.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = jobs
        .iter()
        .map(|job| rows::job_row(job))
        .collect::<Result<Vec<_>>>()?;
    let ids: Vec<String> = sqlx::query_scalar(include_str!("sql/jobs_insert_batch.sql"))
        .bind(to_json(&rows)?)
        .bind(now.map(ms))
        .fetch_all(conn)
        .await?;
    Ok(ids.into_iter().collect())
}

/// Cancels a pending or running job; `None` if it is in neither state. A
/// running job's lease is revoked, so its worker's next heartbeat fails.
pub(super) async fn cancel_job(
    conn: &mut PgConnection,
    id: &str,
    now: Timestamp,
) -> Result<Option<Job>> {
    let row = sqlx::query(include_str!("sql/job_cancel.sql"))
        .bind(id)
        .bind(ms(now))
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let job = rows::job(&row)?;
    if job.attempt > 0 {
        finish_attempt(
            conn,
            id,
            i64::from(job.attempt),
            now,
            AttemptOutcome::Cancelled,
            Some("cancelled"),
        )
        .await?;
    }
    Ok(Some(job))
}

async fn finish_attempt(
    conn: &mut PgConnection,
    job_id: &str,
    attempt: i64,
    now: Timestamp,
    outcome: AttemptOutcome,
    error: Option<&str>,
) -> Result<()> {
    sqlx::query(include_str!("sql/attempt_finish.sql"))
        .bind(job_id)
        .bind(attempt)
        .bind(ms(now))
        .bind(outcome.as_str())
        .bind(error)
        .bind(None::<String>)
        .execute(conn)
        .await?;
    Ok(())
}
