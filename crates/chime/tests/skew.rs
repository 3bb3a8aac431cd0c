//! DESIGN §2.6 under a skewed clock: one of two instances on PostgreSQL
//! runs with its wall clock 30 s fast. Due-ness and leases follow the
//! store's clock, so that instance still fires every schedule at its
//! instant (not 30 s early), starts delayed jobs no sooner than their
//! run_at, and shares the buckets with the other instead of taking them.

mod support;

use chime_store::postgres::PostgresStore;
use chime_store::Store;
use chime_testkit::PgSchema;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use support::{post, wait_for, Chime, Receiver};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_with_a_fast_clock_still_fires_on_the_store_clock() {
    let schema = PgSchema::create().await;
    let store: Arc<dyn Store> = Arc::new(PostgresStore::open(&schema.url).await.expect("postgres"));
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let normal = Chime::start_on(&schema.url, dir.path(), &[]).await;
    let fast = Chime::start_skewed(&schema.url, dir.path(), &[], "+30s").await;
    // The skew took: the fast instance measured its clock 30 s ahead.
    let log = std::fs::read_to_string(&fast.log).unwrap();
    let offset: i64 = log
        .lines()
        .find(|l| l.contains("store clock offset"))
        .and_then(|l| l.split("offset_ms=").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no offset in the log:\n{log}"));
    assert!((-30_500..=-29_500).contains(&offset), "offset {offset} ms");

    // Both hold buckets, and keep holding them: the fast one does not see
    // the other's leases as expired.
    let owners = || {
        let store = store.clone();
        async move {
            let now = store.now().await.unwrap();
            let mut o: HashMap<String, usize> = HashMap::new();
            for l in store.buckets_list().await.unwrap() {
                if l.expires_at > now {
                    *o.entry(l.owner).or_default() += 1;
                }
            }
            o
        }
    };
    wait_for(
        "both instances to hold buckets",
        Duration::from_secs(30),
        || {
            let o = owners();
            async move { o.await.len() == 2 }
        },
    )
    .await;
    let before = owners().await;

    let c = reqwest::Client::new();
    let hook = receiver.url("/hook");
    for i in 0..16 {
        let via = if i % 2 == 0 { &normal } else { &fast };
        let (status, _) = post(
            &c,
            &via.url("/api/v1/schedules"),
            json!({
                "name": format!("s{i}"), "every": "1s",
                "job": {"kind": "tick", "target": {"http": {"url": hook}}},
            }),
        )
        .await;
        assert_eq!(status, 201);
    }
    let (status, delayed) = post(
        &c,
        &fast.url("/api/v1/jobs"),
        json!({
            "kind": "later", "delay_ms": 4000, "target": {"http": {"url": receiver.url("/later")}},
        }),
    )
    .await;
    assert_eq!(status, 201);
    let run_at: jiff::Timestamp = delayed["run_at"].as_str().unwrap().parse().unwrap();

    tokio::time::sleep(Duration::from_secs(8)).await;
    let hits = receiver.hits();
    let ticks: Vec<_> = hits.iter().filter(|h| h.path == "/hook").collect();
    assert!(ticks.len() >= 16 * 4, "only {} fires", ticks.len());
    // The receiver's clock is the store's host's; a fire may be a little late, never early.
    let mut keys = HashSet::new();
    for h in &ticks {
        let scheduled: jiff::Timestamp = h.scheduled_at.as_deref().unwrap().parse().unwrap();
        let arrived =
            jiff::Timestamp::now() - jiff::SignedDuration::try_from(h.at.elapsed()).unwrap();
        let early = scheduled.duration_since(arrived);
        assert!(
            early < jiff::SignedDuration::from_millis(100),
            "fired {} ms before its instant",
            early.as_millis()
        );
        assert!(
            keys.insert(h.idempotency_key.clone()),
            "a fire made two jobs"
        );
    }
    let later = hits
        .iter()
        .find(|h| h.path == "/later")
        .expect("the delayed job ran");
    let started =
        jiff::Timestamp::now() - jiff::SignedDuration::try_from(later.at.elapsed()).unwrap();
    assert!(
        started >= run_at - jiff::SignedDuration::from_millis(100),
        "the delayed job started {} ms early",
        run_at.duration_since(started).as_millis()
    );
    let after = owners().await;
    assert_eq!(after.len(), 2, "both still hold buckets: {after:?}");
    assert_eq!(before, after, "no bucket changed hands");
    drop((normal, fast));
}
