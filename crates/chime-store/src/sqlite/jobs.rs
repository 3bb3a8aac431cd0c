//! Jobs: enqueue, claim under a lease, heartbeat, complete, rescue expired
//! leases, and the operator's cancel, retry and delete.

use super::SqliteStore;
use crate::jobs_common::{after_expired_lease, attempt_end_row, finish_row, with_paused};
use crate::params::*;
use crate::rows::{self, ms, to_json, ts, Cols};
use crate::sql_shared::{deletable, job_not_applicable, jobs_list_query};
use crate::{Result, StoreError};
use chime_core::model::{Attempt, AttemptOutcome, Backoff, Job};
use jiff::Timestamp;
use sqlx::SqliteConnection;

/// Claims of due jobs and of jobs not yet due.
const CLAIM: [&str; 2] = crate::sql_shared::claim_statements!();

impl SqliteStore {
    pub(super) async fn job_enqueue(&self, jobs: Vec<NewJob>) -> Result<Vec<Enqueued>> {
        let now = self.clock.now();
        let mut tx = self.writer.begin().await?;
        let mut out = Vec::with_capacity(jobs.len());
        if jobs.iter().all(|j| j.unique_key.is_none()) {
            let all: Vec<&NewJob> = jobs.iter().collect();
            insert_jobs(&mut tx, &all, now).await?;
            tx.commit().await?;
            return Ok(jobs
                .into_iter()
                .map(|j| Enqueued {
                    id: j.id,
                    duplicate: false,
                })
                .collect());
        }
        for job in &jobs {
            if let Some(key) = &job.unique_key {
                let existing: Option<String> =
                    sqlx::query_scalar(include_str!("sql/job_find_unique.sql"))
                        .bind(&job.namespace)
                        .bind(key)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(id) = existing {
                    out.push(Enqueued {
                        id,
                        duplicate: true,
                    });
                    continue;
                }
            }
            insert_job(&mut tx, job, now).await?;
            out.push(Enqueued {
                id: job.id.clone(),
                duplicate: false,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    pub(super) async fn job_claim(&self, p: JobsClaim) -> Result<Vec<ClaimedJob>> {
        let now = self.now_or(p.now);
        let expires = now.saturating_add(p.lease).unwrap_or(now);
        let token = uuid::Uuid::now_v7().to_string();
        let sql = CLAIM[usize::from(p.due_after.is_some())];
        let mut tx = self.writer.begin().await?;
        let mut query = sqlx::query(sql)
            .bind(to_json(&p.queues)?)
            .bind(ms(p.due_by.unwrap_or(now)))
            .bind(i64::from(p.limit))
            .bind(&p.worker)
            .bind(&token)
            .bind(ms(expires));
        if let Some(after) = p.due_after {
            query = query.bind(ms(after));
        }
        let rows = query.fetch_all(&mut *tx).await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            claimed.push(ClaimedJob {
                job: rows::job(row)?,
                lease_token: token.clone(),
                lease_expires_at: expires,
            });
        }
        if !claimed.is_empty() {
            let ids: Vec<&str> = claimed.iter().map(|c| c.job.id.as_str()).collect();
            sqlx::query(include_str!("sql/attempts_start_batch.sql"))
                .bind(to_json(&ids)?)
                .bind(&p.worker)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        // RETURNING does not follow the subquery's order.
        let by_priority = |c: &ClaimedJob| std::cmp::Reverse(c.job.job.priority);
        if p.due_after.is_some() {
            claimed.sort_by_key(|c| (c.job.run_at, by_priority(c)));
        } else {
            claimed.sort_by_key(|c| (by_priority(c), c.job.run_at));
        }
        Ok(claimed)
    }

    pub(super) async fn job_heartbeat(&self, p: JobsHeartbeat) -> Result<Timestamp> {
        let now = self.now_or(p.now);
        let expires = now.saturating_add(p.extend).unwrap_or(now);
        let row: Option<i64> = sqlx::query_scalar(include_str!("sql/job_heartbeat.sql"))
            .bind(&p.job_id)
            .bind(&p.lease_token)
            .bind(ms(expires))
            .bind(ms(now))
            .fetch_optional(&self.writer)
            .await?;
        row.map(ts).transpose()?.ok_or(StoreError::LeaseLost)
    }

    /// One statement for the jobs and one for their attempts, whatever the
    /// batch size: the worker's completer sends many at once under load.
    pub(super) async fn job_complete(&self, p: JobsComplete) -> Result<Vec<Result<()>>> {
        let now = self.now_or(p.now);
        let finishes: Vec<_> = p.completions.iter().map(|c| finish_row(c, now)).collect();
        let mut tx = self.writer.begin().await?;
        let applied: Vec<(String, i64)> = sqlx::query_as(include_str!("sql/jobs_finish_batch.sql"))
            .bind(to_json(&finishes)?)
            .bind(ms(now))
            .fetch_all(&mut *tx)
            .await?;
        let attempt_of: std::collections::HashMap<&str, i64> =
            applied.iter().map(|(id, a)| (id.as_str(), *a)).collect();
        let attempts: Vec<_> = p
            .completions
            .iter()
            .filter_map(|c| {
                attempt_of
                    .get(c.job_id.as_str())
                    .map(|a| attempt_end_row(c, *a))
            })
            .collect();
        if !attempts.is_empty() {
            sqlx::query(include_str!("sql/attempts_finish_batch.sql"))
                .bind(to_json(&attempts)?)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
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
        let now = self.now_or(p.now);
        let mut tx = self.writer.begin().await?;
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
                    None,
                )
                .await?;
                rescued.push(id);
            }
        }
        tx.commit().await?;
        Ok(rescued)
    }

    pub(super) async fn job_cancel(&self, id: &str) -> Result<Job> {
        let now = self.clock.now();
        let mut tx = self.writer.begin().await?;
        let job = cancel_job(&mut tx, id, now).await?;
        tx.commit().await?;
        match job {
            Some(job) => Ok(job),
            None => Err(self.not_applicable(id, "cancel").await?),
        }
    }

    pub(super) async fn job_retry(&self, id: &str) -> Result<Job> {
        let row = sqlx::query(include_str!("sql/job_retry.sql"))
            .bind(id)
            .bind(ms(self.clock.now()))
            .fetch_optional(&self.writer)
            .await?;
        match row {
            Some(row) => rows::job(&row),
            None => Err(self.not_applicable(id, "retry").await?),
        }
    }

    pub(super) async fn job_delete(&self, id: &str) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM jobs WHERE id = ?1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if !deletable(state.as_deref())? {
            return Ok(false);
        }
        sqlx::query("DELETE FROM jobs WHERE id = ?1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM attempts WHERE job_id = ?1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The error for an operation that matched no row: missing, or wrong state.
    async fn not_applicable(&self, id: &str, op: &str) -> Result<StoreError> {
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM jobs WHERE id = ?1")
            .bind(id)
            .fetch_optional(&self.writer)
            .await?;
        Ok(job_not_applicable(id, state, op))
    }

    pub(super) async fn job_get(&self, id: &str) -> Result<Option<Job>> {
        let row = sqlx::query("SELECT * FROM jobs WHERE id = ?1")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(rows::job).transpose()
    }

    pub(super) async fn job_list(&self, p: JobsList) -> Result<Vec<Job>> {
        let rows = jobs_list_query::<sqlx::Sqlite>(p)
            .build()
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(rows::job).collect()
    }

    pub(super) async fn attempt_list(&self, job_id: &str) -> Result<Vec<Attempt>> {
        let rows = sqlx::query("SELECT * FROM attempts WHERE job_id = ?1 ORDER BY attempt")
            .bind(job_id)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(rows::attempt).collect()
    }

    pub(super) async fn queue_stats(&self) -> Result<Vec<QueueStats>> {
        let rows = sqlx::query(include_str!("sql/queue_stats.sql"))
            .bind(ms(self.clock.now()))
            .fetch_all(&self.reader)
            .await?;
        let paused: Vec<String> = sqlx::query_scalar("SELECT name FROM queues WHERE paused = 1")
            .fetch_all(&self.reader)
            .await?;
        // SUM over no rows is NULL.
        let count = |row: &sqlx::sqlite::SqliteRow, col: &str| -> Result<u64> {
            Ok(row.opt_i64(col)?.unwrap_or(0) as u64)
        };
        let stats = rows
            .iter()
            .map(|row| {
                Ok(QueueStats {
                    queue: row.string("queue")?,
                    paused: false,
                    available: count(row, "available")?,
                    scheduled: count(row, "scheduled")?,
                    running: count(row, "running")?,
                    succeeded: count(row, "succeeded")?,
                    dead: count(row, "dead")?,
                    cancelled: count(row, "cancelled")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(with_paused(stats, paused))
    }

    pub(super) async fn queue_set_paused(&self, queue: &str, paused: bool) -> Result<()> {
        sqlx::query(include_str!("sql/queue_set_paused.sql"))
            .bind(queue)
            .bind(paused)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(super) async fn prune(&self, p: RetentionPrune) -> Result<PruneCounts> {
        let mut tx = self.writer.begin().await?;
        let (cutoffs, latest) = p.queue_cutoffs();
        let ids: Vec<String> = sqlx::query_scalar(include_str!("sql/prune_jobs.sql"))
            .bind(ms(p.jobs_finished_before))
            .bind(i64::from(p.limit))
            .bind(cutoffs)
            .bind(latest)
            .fetch_all(&mut *tx)
            .await?;
        sqlx::query(include_str!("sql/attempts_delete.sql"))
            .bind(to_json(&ids)?)
            .execute(&mut *tx)
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

/// Inserts many jobs in one statement.
pub(super) async fn insert_jobs(
    conn: &mut SqliteConnection,
    jobs: &[&NewJob],
    now: Timestamp,
) -> Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let rows = jobs
        .iter()
        .map(|job| rows::job_row(job))
        .collect::<Result<Vec<_>>>()?;
    sqlx::query(include_str!("sql/jobs_insert_batch.sql"))
        .bind(to_json(&rows)?)
        .bind(ms(now))
        .execute(conn)
        .await?;
    Ok(())
}

pub(super) async fn insert_job(
    conn: &mut SqliteConnection,
    job: &NewJob,
    now: Timestamp,
) -> Result<()> {
    insert_jobs(conn, &[job], now).await
}

/// Cancels a pending or running job; `None` if it is in neither state. A
/// running job's lease is revoked, so its worker's next heartbeat fails and
/// the worker stops the work.
pub(super) async fn cancel_job(
    conn: &mut SqliteConnection,
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
            None,
        )
        .await?;
    }
    Ok(Some(job))
}

async fn finish_attempt(
    conn: &mut SqliteConnection,
    job_id: &str,
    attempt: i64,
    now: Timestamp,
    outcome: AttemptOutcome,
    error: Option<&str>,
    output: Option<&str>,
) -> Result<()> {
    sqlx::query(include_str!("sql/attempt_finish.sql"))
        .bind(job_id)
        .bind(attempt)
        .bind(ms(now))
        .bind(outcome.as_str())
        .bind(error)
        .bind(output)
        .execute(conn)
        .await?;
    Ok(())
}
