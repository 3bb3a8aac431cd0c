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
use crate::sql_shared::delegate_store;
use crate::{Result, Wakers};
use chime_core::model::{Attempt, Job, Occurrence, Schedule};
use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sqlx::PgConnection;
use std::str::FromStr;
use std::time::Duration;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_init.sql")),
    (2, include_str!("migrations/0002_instances.sql")),
    (3, include_str!("migrations/0003_tokens.sql")),
    (4, include_str!("migrations/0004_claim_early.sql")),
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
    notify_with(conn, channel, "").await
}

/// A schedule's change: its id as the payload, so that schedulers read it alone.
async fn notify_schedule(conn: &mut PgConnection, id: &str) -> Result<()> {
    notify_with(conn, SCHEDULES_CHANNEL, id).await
}

async fn notify_with(conn: &mut PgConnection, channel: &str, payload: &str) -> Result<()> {
    sqlx::query(include_str!("sql/notify.sql"))
        .bind(channel)
        .bind(payload)
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
                        Ok(n) if n.channel() == SCHEDULES_CHANNEL => {
                            wakers.schedule_message(n.payload())
                        }
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

impl PostgresStore {
    /// The store's clock (DESIGN §2.6).
    async fn store_now(&self) -> Result<Timestamp> {
        let mut conn = self.pool.acquire().await?;
        db_now(&mut conn).await
    }

    fn token_pools(&self) -> (&PgPool, &PgPool) {
        (&self.pool, &self.pool)
    }

    async fn store_watch(&self, wakers: Wakers) -> Result<()> {
        tokio::spawn(listen(self.pool.clone(), wakers));
        Ok(())
    }
}

const TOKEN_SQL: crate::tokens::TokenSql = crate::tokens::TokenSql {
    insert: "INSERT INTO tokens (id, name, role, namespace, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    find: "SELECT * FROM tokens WHERE hash = $1",
    list: "SELECT * FROM tokens ORDER BY created_at, id",
    delete: "DELETE FROM tokens WHERE id = $1",
};

delegate_store!(PostgresStore);
