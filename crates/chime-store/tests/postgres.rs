//! The conformance suite against the real PostgreSQL, one schema per test.

mod conformance;

use chime_store::postgres::PostgresStore;
use chime_testkit::PgSchema;
use conformance::TestStore;
use std::sync::Arc;

async fn postgres() -> TestStore {
    let schema = PgSchema::create().await;
    let store = PostgresStore::open(&schema.url)
        .await
        .expect("open postgres");
    TestStore {
        store: Arc::new(store),
        _guard: Box::new(schema),
    }
}

conformance_suite!(postgres);

#[tokio::test]
async fn changes_are_announced_by_schedule_id() {
    let t = postgres().await;
    conformance::schedules::changes_are_announced_by_schedule_id(t.store.clone()).await;
}
