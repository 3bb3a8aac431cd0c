//! The fire transaction on SQLite: the shared logic in `crate::firing`
//! over these statements. The single writer connection serialises fires,
//! so the lease check needs no lock.

use super::jobs::{cancel_job, insert_jobs};
use super::SqliteStore;
use crate::firing::{self, FireTx};
use crate::params::*;
use crate::rows::{ms, to_json};
use crate::Result;
use jiff::Timestamp;
use serde_json::Value;
use sqlx::SqliteConnection;
use std::collections::HashSet;

impl SqliteStore {
    pub(super) async fn fire_batch(&self, p: FireBatch) -> Result<Vec<FireResult>> {
        let now = self.now_or(p.now);
        let mut tx = self.writer.begin().await?;
        let results = firing::apply(&mut Tx(&mut tx), p, now).await?;
        tx.commit().await?;
        Ok(results)
    }
}

struct Tx<'a>(&'a mut SqliteConnection);

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
        let ids: Vec<String> = sqlx::query_scalar(include_str!("sql/fire_advance_batch.sql"))
            .bind(to_json(&rows)?)
            .fetch_all(&mut *self.0)
            .await?;
        Ok(ids.into_iter().collect())
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
        insert_jobs(self.0, jobs, now).await
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
