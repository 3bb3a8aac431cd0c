//! WAL checkpoints off the write path.
//!
//! SQLite's automatic checkpoint runs inside whichever COMMIT crosses the
//! threshold, so one fire or claim now and then waited tens of ms for pages
//! to be copied and synced. Automatic checkpoints are off; this task runs
//! passive checkpoints on a connection of its own, which copy committed
//! pages without taking the write lock, so the writer never waits for them.

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use std::time::Duration;
use tokio::sync::oneshot;

/// Often enough that the WAL stays a few MB under a busy second's writes.
const EVERY: Duration = Duration::from_secs(1);

/// Stops the checkpointer when the last handle to the store is dropped.
pub(super) struct Checkpointer {
    _stop: oneshot::Sender<()>,
}

impl Checkpointer {
    pub(super) async fn start(options: SqliteConnectOptions) -> crate::Result<Checkpointer> {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(options)
            .await?;
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(run(pool, stopped));
        Ok(Checkpointer { _stop: stop })
    }
}

async fn run(pool: SqlitePool, mut stopped: oneshot::Receiver<()>) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            _ = tick.tick() => {}
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::warn!(error = %e, "sqlite WAL checkpoint failed; will retry");
        }
    }
    pool.close().await;
}
