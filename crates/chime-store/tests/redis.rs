//! The conformance suite against the real Redis, one key prefix per test.

mod conformance;

use chime_store::redis::RedisStore;
use chime_testkit::RedisSpace;
use conformance::TestStore;
use std::sync::Arc;

async fn redis() -> TestStore {
    let space = RedisSpace::create();
    let store = RedisStore::open(&space.url)
        .await
        .expect("Redis must be running (scripts/services starts it)");
    TestStore {
        store: Arc::new(store),
        _guard: Box::new(space),
    }
}

conformance_suite!(redis);
