//! Several `chime serve` processes on one PostgreSQL database or one Redis:
//! buckets are shared among them, each fire makes exactly one job, and when
//! one is killed the others take its schedules over with no fire missed.

mod support;

use chime_core::model::OccurrenceOutcome;
use chime_store::postgres::PostgresStore;
use chime_store::redis::RedisStore;
use chime_store::{JobsList, OccurrencesList, Store};
use chime_testkit::{PgSchema, RedisSpace};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use support::{post, wait_for, Chime, Receiver};

/// Instances holding a live bucket lease, and how many each holds.
async fn owners(store: &Arc<dyn Store>) -> HashMap<String, usize> {
    let now = store.now().await.unwrap_or(jiff::Timestamp::MAX);
    let mut owners = HashMap::new();
    for lease in store.buckets_list().await.unwrap_or_default() {
        if lease.expires_at > now {
            *owners.entry(lease.owner).or_default() += 1;
        }
    }
    owners
}

async fn three_instances_survive_a_kill_9(url: &str, store: Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(Chime::start_on(url, dir.path(), &[]).await);
    }
    let shared = |n: usize| {
        let store = store.clone();
        move || {
            let store = store.clone();
            async move {
                let o = owners(&store).await;
                o.len() == n && o.values().sum::<usize>() == 256
            }
        }
    };
    wait_for(
        "three instances to share the buckets",
        Duration::from_secs(30),
        shared(3),
    )
    .await;
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for i in 0..30 {
        let (status, body) = post(
            &client,
            &instances[i % 3].url("/api/v1/schedules"),
            json!({"name": format!("s{i}"), "every": "1s",
                   "job": {"kind": "ping", "target": {"http": {"url": receiver.url("/hook")}}}}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().unwrap_or_default().to_string());
    }
    // Let every instance fire for a few seconds, then kill one outright.
    tokio::time::sleep(Duration::from_secs(3)).await;
    instances[2].kill_9();
    wait_for(
        "the survivors to take every bucket",
        Duration::from_secs(30),
        shared(2),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for chime in &instances[..2] {
        chime.sigterm();
    }
    for chime in &mut instances[..2] {
        let _ = chime.child.wait();
    }

    for id in &ids {
        let jobs = store
            .jobs_list(JobsList {
                schedule_id: Some(id.clone()),
                limit: 10_000,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut secs: Vec<i64> = jobs
            .iter()
            .filter_map(|j| j.scheduled_for.map(|t| t.as_second()))
            .collect();
        secs.sort_unstable();
        // One job per fire key, whichever instance wrote it.
        let distinct: HashSet<i64> = secs.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            secs.len(),
            "{id}: a fire made two jobs: {secs:?}"
        );
        // No fire lost: late during the takeover is fine, missed is not.
        assert!(secs.len() >= 6, "{id}: only {} fires", secs.len());
        assert!(
            secs.windows(2).all(|w| w[1] - w[0] == 1),
            "{id}: a second was skipped: {secs:?}"
        );
        let ledger = store
            .occurrences_list(OccurrencesList {
                schedule_id: id.clone(),
                before: None,
                limit: 10_000,
            })
            .await
            .unwrap();
        let not_fired: Vec<_> = ledger
            .iter()
            .filter(|o| o.outcome != OccurrenceOutcome::Fired)
            .collect();
        assert!(not_fired.is_empty(), "{id}: {not_fired:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_postgres_survive_a_kill_9() {
    let schema = PgSchema::create().await;
    let store = PostgresStore::open(&schema.url).await.expect("postgres");
    three_instances_survive_a_kill_9(&schema.url, Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_redis_survive_a_kill_9() {
    let space = RedisSpace::create();
    let store = RedisStore::open(&space.url).await.expect("redis");
    three_instances_survive_a_kill_9(&space.url, Arc::new(store)).await;
}
