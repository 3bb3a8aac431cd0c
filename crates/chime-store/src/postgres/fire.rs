//! The fire transaction on PostgreSQL: the shared logic in `crate::firing`
//! over these statements. The lease rows are held `FOR SHARE` and the
//! schedules locked in id order for the whole transaction.

use super::jobs::{cancel_job, insert_jobs};
use super::{notify, PostgresStore, JOBS_CHANNEL};
use crate::firing::{self, FireTx};
use crate::params::*;
use crate::rows::{ms, to_json};
use crate::Result;
use jiff::Timestamp;
use serde_json::Value;
use sqlx::PgConnection;
use std::collections::HashSet;

impl PostgresStore {
    pub(super) async fn fire_batch(&self, p: FireBatch) -> Result<Vec<FireResult>> {
        let mut tx = self.pool.begin().await?;
        let now = self.now_or(&mut tx, p.now).await?;
        let results = firing::apply(&mut Tx(&mut tx), p, now).await?;
        let made_jobs = results
            .iter()
            .any(|r| matches!(r, FireResult::Applied { job_ids, .. } if !job_ids.is_empty()));
        if made_jobs {
            notify(&mut tx, JOBS_CHANNEL).await?;
        }
        tx.commit().await?;
        Ok(results)
    }
}

struct Tx<'a>(&'a mut PgConnection);

impl FireTx for Tx<'_> {
    async fn held_leases(&mut self, owner: &str, now: Timestamp) -> Result<HashSet<(i64, i64)>> {
        let held: Vec<(i64, i64)> = sqlx::query_as(include_str!("sql/buckets_held.sql"))
            .bind(owner)
            .bind(ms(now))
            .fetch_all(&mut *self.0)
            .await?;
        Ok(held.into_iter().collect())
    }

    async fn advance(&mut self, rows: &[Value]) -> Result<HashSet<String>> {
        let ids: Vec<&str> = rows.iter().filter_map(|r| r["id"].as_str()).collect();
        sqlx::query(include_str!("sql/schedules_lock.sql"))
            .bind(&ids)
            .execute(&mut *self.0)
            .await?;
        let moved: Vec<String> = sqlx::query_scalar(include_str!("sql/fire_advance_batch.sql"))
            .bind(to_json(&rows)?)
            .fetch_all(&mut *self.0)
            .await?;
        Ok(moved.into_iter().collect())
    }

    async fn record(&mut self, rows: &[Value], now: Timestamp) -> Result<HashSet<(String, i64)>> {
        let keys: Vec<(String, i64)> =
            sqlx::query_as(include_str!("sql/occurrences_insert_batch.sql"))
                .bind(to_json(&rows)?)
                .bind(ms(now))
                .fetch_all(&mut *self.0)
                .await?;
        Ok(keys.into_iter().collect())
    }

    async fn insert_jobs(&mut self, jobs: &[&NewJob], now: Timestamp) -> Result<()> {
        insert_jobs(self.0, jobs, Some(now)).await.map(drop)
    }

    async fn active_jobs(&mut self, schedule_id: &str) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar(include_str!("sql/jobs_active_for_schedule.sql"))
                .bind(schedule_id)
                .fetch_all(&mut *self.0)
                .await?,
        )
    }

    async fn cancel_job(&mut self, id: &str, now: Timestamp) -> Result<()> {
        cancel_job(self.0, id, now).await.map(drop)
    }
}
