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

/// A filtered job list examines the job list a slice at a time (3 ids
/// here, over several script calls) and still returns every match, newest
/// first, page after page.
#[tokio::test]
async fn filtered_job_lists_span_slices() {
    use chime_store::{JobsList, Store};
    let space = RedisSpace::create();
    let store = RedisStore::open(&space.url)
        .await
        .expect("Redis must be running (scripts/services starts it)")
        .with_list_slice(3);
    let t = jiff::Timestamp::now();
    let jobs: Vec<_> = (0..10)
        .map(|i| conformance::new_job(if i % 3 == 0 { "rare" } else { "busy" }, t))
        .collect();
    store.jobs_enqueue(jobs.clone()).await.expect("enqueue");
    let rare: Vec<String> = jobs
        .iter()
        .rev()
        .filter(|j| j.job.queue == "rare")
        .map(|j| j.id.clone())
        .collect();
    assert_eq!(rare.len(), 4);
    let page = |before_id: Option<String>| JobsList {
        namespace: None,
        queue: Some("rare".into()),
        state: None,
        schedule_id: None,
        before_id,
        limit: 2,
    };
    let ids =
        |jobs: Vec<chime_core::model::Job>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    let first = ids(store.jobs_list(page(None)).await.expect("list"));
    assert_eq!(first, rare[..2]);
    let second = ids(store
        .jobs_list(page(first.last().cloned()))
        .await
        .expect("list"));
    assert_eq!(second, rare[2..]);
    let none = store
        .jobs_list(page(second.last().cloned()))
        .await
        .expect("list");
    assert!(none.is_empty());
}
