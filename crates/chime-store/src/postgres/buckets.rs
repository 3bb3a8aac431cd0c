use super::PostgresStore;
use crate::membership::{self, BeatSql};
use crate::params::*;
use crate::rows::{ms, ts, Cols};
use crate::Result;

const BEAT: BeatSql = BeatSql {
    upsert: include_str!("sql/instance_beat.sql"),
    expire: "DELETE FROM instances WHERE expires_at <= $1",
    live: "SELECT * FROM instances ORDER BY id",
};

impl PostgresStore {
    pub(super) async fn bucket_acquire(&self, p: BucketsAcquire) -> Result<Vec<BucketLease>> {
        let mut conn = self.pool.acquire().await?;
        let now = self.now_or(&mut conn, p.now).await?;
        let expires = now.saturating_add(p.ttl).unwrap_or(now);
        let buckets: Vec<i64> = p.buckets.iter().map(|b| i64::from(*b)).collect();
        let rows = sqlx::query(include_str!("sql/bucket_acquire.sql"))
            .bind(buckets)
            .bind(&p.owner)
            .bind(ms(expires))
            .bind(ms(now))
            .fetch_all(&mut *conn)
            .await?;
        let mut held = rows.iter().map(lease).collect::<Result<Vec<_>>>()?;
        held.sort_by_key(|l| l.bucket);
        Ok(held)
    }

    pub(super) async fn bucket_release(&self, owner: &str, buckets: &[u32]) -> Result<()> {
        let buckets: Vec<i64> = buckets.iter().map(|b| i64::from(*b)).collect();
        sqlx::query(include_str!("sql/buckets_release.sql"))
            .bind(owner)
            .bind(buckets)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn instance_beat(&self, p: InstanceBeat) -> Result<Vec<Instance>> {
        let mut tx = self.pool.begin().await?;
        let now = self.now_or(&mut tx, p.now).await?;
        let live = membership::beat::<sqlx::Postgres>(&mut tx, &BEAT, &p, now).await?;
        tx.commit().await?;
        Ok(live)
    }

    pub(super) async fn instance_list(&self) -> Result<Vec<Instance>> {
        let rows = sqlx::query(
            "SELECT * FROM instances WHERE expires_at > (extract(epoch FROM clock_timestamp()) * 1000)::bigint ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(crate::rows::instance).collect()
    }

    pub(super) async fn instance_leave(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM instances WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn bucket_list(&self) -> Result<Vec<BucketLease>> {
        let rows = sqlx::query("SELECT bucket, owner, epoch, expires_at FROM buckets WHERE owner IS NOT NULL ORDER BY bucket")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(lease).collect()
    }
}

fn lease(row: &impl Cols) -> Result<BucketLease> {
    Ok(BucketLease {
        bucket: row.i64("bucket")? as u32,
        owner: row.opt_string("owner")?.unwrap_or_default(),
        epoch: row.i64("epoch")? as u64,
        expires_at: ts(row.i64("expires_at")?)?,
    })
}
