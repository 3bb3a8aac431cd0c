//! The embedded default backend: SQLite in WAL mode, zero setup, one host.
//!
//! All writes go through one connection (SQLite has one writer anyway), so
//! chime never meets `SQLITE_BUSY` from itself; reads use a small pool and
//! see committed data. `busy_timeout` covers other processes on the same file.
//!
//! Durability (DESIGN §2.3): `synchronous=normal` (default) survives a crash
//! of the chime process, since WAL frames are written before COMMIT returns;
//! a power loss or OS crash can lose the last transactions. `synchronous=full`
//! (`sqlite://chime.db?synchronous=full`) fsyncs the WAL on every commit and
//! survives both, at a cost in write throughput.

mod buckets;
mod checkpoint;
mod fire;
mod jobs;
mod schedules;

use crate::params::*;
use crate::sql_shared::delegate_store;
use crate::{Result, StoreError, Wakers};
use checkpoint::Checkpointer;
use chime_core::model::{Attempt, Job, Occurrence, Schedule};
use chime_core::time::{Clock, SystemClock};
use jiff::Timestamp;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_init.sql")),
    (2, include_str!("migrations/0002_instances.sql")),
    (3, include_str!("migrations/0003_tokens.sql")),
    (4, include_str!("migrations/0004_claim_early.sql")),
];

/// Parsed `sqlite://PATH[?synchronous=normal|full]` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteConfig {
    pub path: PathBuf,
    pub synchronous_full: bool,
}

impl SqliteConfig {
    pub fn parse(url: &str) -> Result<SqliteConfig> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| StoreError::InvalidState(format!("not a sqlite URL: {url:?}")))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() {
            return Err(StoreError::InvalidState(
                "sqlite URL has no file path".into(),
            ));
        }
        let mut synchronous_full = false;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair {
                "synchronous=full" => synchronous_full = true,
                "synchronous=normal" => synchronous_full = false,
                other => {
                    return Err(StoreError::InvalidState(format!(
                        "unknown sqlite URL option {other:?}; expected synchronous=normal or synchronous=full"
                    )))
                }
            }
        }
        Ok(SqliteConfig {
            path: PathBuf::from(path),
            synchronous_full,
        })
    }
}

#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    clock: Arc<dyn Clock>,
    _checkpointer: Arc<Checkpointer>,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<SqliteStore> {
        SqliteStore::open_with_clock(url, Arc::new(SystemClock)).await
    }

    /// As [`open`](Self::open), reading time from `clock` (tests drive it).
    pub async fn open_with_clock(url: &str, clock: Arc<dyn Clock>) -> Result<SqliteStore> {
        let config = SqliteConfig::parse(url)?;
        let options = SqliteConnectOptions::new()
            .filename(&config.path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if config.synchronous_full {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            })
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-32000")
            // The checkpointer below does it, off the write path.
            .pragma("wal_autocheckpoint", "0");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(options.clone())
            .await?;
        migrate(&writer).await?;
        let checkpointer = Checkpointer::start(options.clone()).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteStore {
            writer,
            reader,
            clock,
            _checkpointer: Arc::new(checkpointer),
        })
    }

    fn now_or(&self, pinned: Option<Timestamp>) -> Timestamp {
        pinned.unwrap_or_else(|| self.clock.now())
    }
}

async fn migrate(pool: &SqlitePool) -> Result<()> {
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS chime_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        .execute(pool)
        .await?;
    for (version, sql) in MIGRATIONS {
        let mut tx = pool.begin().await?;
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM chime_migrations WHERE version = ?1")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_none() {
            sqlx::raw_sql(*sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO chime_migrations (version, applied_at) VALUES (?1, ?2)")
                .bind(version)
                .bind(Timestamp::now().as_millisecond())
                .execute(&mut *tx)
                .await?;
            tracing::info!(version, "applied sqlite migration");
        }
        tx.commit().await?;
    }
    Ok(())
}

impl SqliteStore {
    /// The store's clock (DESIGN §2.6).
    async fn store_now(&self) -> Result<Timestamp> {
        Ok(self.clock.now())
    }

    fn token_pools(&self) -> (&SqlitePool, &SqlitePool) {
        (&self.reader, &self.writer)
    }

    /// One process per file: nothing to follow.
    async fn store_watch(&self, _wakers: Wakers) -> Result<()> {
        Ok(())
    }
}

const TOKEN_SQL: crate::tokens::TokenSql = crate::tokens::TokenSql {
    insert: "INSERT INTO tokens (id, name, role, namespace, hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    find: "SELECT * FROM tokens WHERE hash = ?1",
    list: "SELECT * FROM tokens ORDER BY created_at, id",
    delete: "DELETE FROM tokens WHERE id = ?1",
};

delegate_store!(SqliteStore);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let c = SqliteConfig::parse("sqlite://chime.db").unwrap();
        assert_eq!(
            (c.path, c.synchronous_full),
            (PathBuf::from("chime.db"), false)
        );
        let c = SqliteConfig::parse("sqlite:///var/lib/chime/x.db?synchronous=full").unwrap();
        assert_eq!(
            (c.path, c.synchronous_full),
            (PathBuf::from("/var/lib/chime/x.db"), true)
        );
        assert!(SqliteConfig::parse("postgres://x").is_err());
        assert!(SqliteConfig::parse("sqlite://x.db?journal=off").is_err());
        assert!(SqliteConfig::parse("sqlite://").is_err());
    }
}
