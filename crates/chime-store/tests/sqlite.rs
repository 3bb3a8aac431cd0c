//! The conformance suite against the SQLite backend, one file per test.

mod conformance;

use chime_store::sqlite::SqliteStore;
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
