//! Several `chime serve` processes on one PostgreSQL database: buckets are
//! shared among them, each fire makes exactly one job, and when one is
//! killed the others take its schedules over with no fire missed.

mod support;

use chime_testkit::PgSchema;
use serde_json::json;
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::Duration;
use support::{post, wait_for, Chime, Receiver};

/// Bucket owners with a live lease, and how many each holds.
async fn owners(pool: &PgPool) -> HashMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>(
        "SELECT owner, count(*) FROM buckets
         WHERE owner IS NOT NULL AND expires_at > (extract(epoch FROM clock_timestamp()) * 1000)::bigint
         GROUP BY owner",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default()
    .into_iter()
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_share_buckets_and_survive_a_kill_9() {
    let schema = PgSchema::create().await;
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(Chime::start_on(&schema.url, dir.path(), &[]).await);
    }
    let pool = schema.pool().await;
    wait_for(
        "three instances to share the buckets",
        Duration::from_secs(30),
        || {
            let pool = pool.clone();
            async move {
                let o = owners(&pool).await;
                o.len() == 3 && o.values().sum::<i64>() == 256
            }
        },
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
        || {
            let pool = pool.clone();
            async move {
                let o = owners(&pool).await;
                o.len() == 2 && o.values().sum::<i64>() == 256
            }
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for chime in &instances[..2] {
        chime.sigterm();
    }
    for chime in &mut instances[..2] {
        let _ = chime.child.wait();
    }

    // One job per fire key, whichever instance wrote it.
    let dupes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM jobs GROUP BY schedule_id, scheduled_for HAVING count(*) > 1) d",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(dupes, 0, "a fire made two jobs");
    let ledger_dupes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM occurrences o JOIN jobs j ON j.id = o.job_id WHERE j.scheduled_for <> o.scheduled_for",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ledger_dupes, 0);
    // No fire lost: late during the takeover is fine, missed is not.
    let not_fired: Vec<(String, String)> = sqlx::query_as(
        "SELECT outcome, coalesce(reason, '') FROM occurrences WHERE outcome <> 'fired'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(not_fired.is_empty(), "{not_fired:?}");
    for id in &ids {
        let secs: Vec<i64> = sqlx::query_scalar(
            "SELECT scheduled_for / 1000 FROM jobs WHERE schedule_id = $1 ORDER BY scheduled_for",
        )
        .bind(id)
        .fetch_all(&pool)
        .await
        .unwrap();
        assert!(secs.len() >= 6, "{id}: only {} fires", secs.len());
        assert!(
            secs.windows(2).all(|w| w[1] - w[0] == 1),
            "{id}: a second was skipped: {secs:?}"
        );
    }
}
