use super::SqliteStore;
use crate::membership::{self, BeatSql};
use crate::params::*;
use crate::rows::{ms, to_json, ts};
use crate::Result;

const BEAT: BeatSql = BeatSql {
    upsert: include_str!("sql/instance_beat.sql"),
    expire: "DELETE FROM instances WHERE expires_at <= ?1",
    live: "SELECT * FROM instances ORDER BY id",
};
use sqlx::Row;

impl SqliteStore {
    pub(super) async fn bucket_acquire(&self, p: BucketsAcquire) -> Result<Vec<BucketLease>> {
        let now = self.now_or(p.now);
        let expires = now.saturating_add(p.ttl).unwrap_or(now);
        let mut tx = self.writer.begin().await?;
        let mut held = Vec::with_capacity(p.buckets.len());
        for bucket in &p.buckets {
            let row = sqlx::query(include_str!("sql/bucket_acquire.sql"))
                .bind(i64::from(*bucket))
                .bind(&p.owner)
                .bind(ms(expires))
                .bind(ms(now))
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = row {
                held.push(lease(&row)?);
            }
        }
        tx.commit().await?;
        Ok(held)
    }

    pub(super) async fn bucket_release(&self, owner: &str, buckets: &[u32]) -> Result<()> {
        sqlx::query("UPDATE buckets SET owner = NULL, expires_at = 0 WHERE owner = ?1 AND bucket IN (SELECT value FROM json_each(?2))")
            .bind(owner)
            .bind(to_json(&buckets)?)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(super) async fn instance_beat(&self, p: InstanceBeat) -> Result<Vec<Instance>> {
        let now = self.now_or(p.now);
        let mut tx = self.writer.begin().await?;
        let live = membership::beat::<sqlx::Sqlite>(&mut tx, &BEAT, &p, now).await?;
        tx.commit().await?;
        Ok(live)
    }

    pub(super) async fn instance_list(&self) -> Result<Vec<Instance>> {
        let rows = sqlx::query("SELECT * FROM instances WHERE expires_at > ?1 ORDER BY id")
            .bind(ms(self.now_or(None)))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(crate::rows::instance).collect()
    }

    pub(super) async fn instance_leave(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM instances WHERE id = ?1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(super) async fn bucket_list(&self) -> Result<Vec<BucketLease>> {
        let rows = sqlx::query("SELECT bucket, owner, epoch, expires_at FROM buckets WHERE owner IS NOT NULL ORDER BY bucket")
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(lease).collect()
    }
}

fn lease(row: &sqlx::sqlite::SqliteRow) -> Result<BucketLease> {
    Ok(BucketLease {
        bucket: row.try_get::<i64, _>("bucket")? as u32,
        owner: row
            .try_get::<Option<String>, _>("owner")?
            .unwrap_or_default(),
        epoch: row.try_get::<i64, _>("epoch")? as u64,
        expires_at: ts(row.try_get("expires_at")?)?,
    })
}
