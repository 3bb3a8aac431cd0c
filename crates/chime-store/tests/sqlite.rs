//! The conformance suite against the SQLite backend, one file per test.

mod conformance;

use chime_store::sqlite::SqliteStore;
use chime_store::Store;
use conformance::TestStore;
use std::sync::Arc;

async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("chime.db").display());
    let store = SqliteStore::open(&url).await.expect("open sqlite");
    TestStore {
        store: Arc::new(store),
        _guard: Box::new(dir),
    }
}

conformance_suite!(sqlite);

/// Automatic checkpoints are off (they stalled commits); the store's own
/// checkpointer must still move committed pages into the main file, or the
/// WAL would grow without bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_is_checkpointed_in_the_background() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("chime.db");
    let store = SqliteStore::open(&format!("sqlite://{}", db.display()))
        .await
        .expect("open sqlite");
    let before = std::fs::metadata(&db).expect("db file").len();
    let now = jiff::Timestamp::now();
    for _ in 0..20 {
        let jobs = (0..100).map(|_| conformance::new_job("q", now)).collect();
        store.jobs_enqueue(jobs).await.expect("enqueue");
    }
    let mut after = before;
    for _ in 0..100 {
        after = std::fs::metadata(&db).expect("db file").len();
        if after > before + 256 * 1024 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        after > before + 256 * 1024,
        "main file {before} -> {after} bytes: nothing was checkpointed"
    );
    drop(store);
}
