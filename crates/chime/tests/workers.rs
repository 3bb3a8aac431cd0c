//! External workers over the pull API (DESIGN §6), against the real binary:
//! long-poll claims, heartbeats, completion and failure under the lease,
//! and the Python example worker end to end.

mod support;

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{post, wait_for, Chime};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_heartbeat_complete_and_fail_under_the_lease() {
    let dir = tempfile::tempdir().unwrap();
    // Built-in workers run only `default`; `ext` is left to external workers.
    let chime = Chime::start(&dir.path().join("w.db"), &["--queues", "default"]).await;
    let c = reqwest::Client::new();
    let claim_url = chime.url("/api/v1/queues/ext/claim");
    let claim = |body: Value| post(&c, &claim_url, body);

    // Bad claims name the field.
    let (status, body) = claim(json!({"worker": "w1", "limit": 0})).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("limit"))
    );
    let (status, body) = claim(json!({"worker": ""})).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("worker"))
    );

    // An empty queue: the long poll returns empty after its wait...
    let started = Instant::now();
    let (status, body) = claim(json!({"worker": "w1", "wait_ms": 300})).await;
    assert_eq!(
        (status, body["items"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    assert!(started.elapsed() >= Duration::from_millis(300));

    // ... and a job enqueued while it waits is handed over at once.
    let waiting = tokio::spawn({
        let c = c.clone();
        let url = chime.url("/api/v1/queues/ext/claim");
        async move {
            post(
                &c,
                &url,
                json!({"worker": "w1", "wait_ms": 20000, "lease_ms": 5000}),
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, job) = post(
        &c,
        &chime.url("/api/v1/jobs"),
        json!({"queue": "ext", "kind": "resize", "payload": {"w": 64}, "max_attempts": 2,
               "backoff": {"initial_ms": 1000, "max_ms": 1000}}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = waiting.await.unwrap();
    assert_eq!(status, 200);
    let claimed = &body["items"][0];
    assert_eq!(claimed["id"], job["id"]);
    assert_eq!(
        (claimed["state"].as_str(), claimed["attempt"].as_u64()),
        (Some("running"), Some(1))
    );
    assert_eq!(claimed["payload"]["w"], 64);
    assert_eq!(
        claimed["idempotency_key"], job["id"],
        "an enqueued job's key is its id"
    );
    let id = claimed["id"].as_str().unwrap().to_string();
    let token = claimed["lease_token"].as_str().unwrap().to_string();
    let first_expiry = claimed["lease_expires_at"].as_str().unwrap().to_string();

    // Heartbeat extends the lease; a wrong token is refused (fencing).
    let (status, lease) = post(
        &c,
        &chime.url(&format!("/api/v1/jobs/{id}/heartbeat")),
        json!({"lease_token": token, "lease_ms": 60000}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(lease["lease_expires_at"].as_str().unwrap() > first_expiry.as_str());
    let (status, body) = post(
        &c,
        &chime.url(&format!("/api/v1/jobs/{id}/complete")),
        json!({"lease_token": "not-the-token"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("lease_lost"))
    );

    // Fail: retried after its backoff, as attempt 2.
    let (status, failed) = post(
        &c,
        &chime.url(&format!("/api/v1/jobs/{id}/fail")),
        json!({"lease_token": token, "error": "image too large"}),
    )
    .await;
    assert_eq!((status, failed["state"].as_str()), (200, Some("pending")));
    assert_eq!(failed["last_error"], "image too large");
    let (_, body) = claim(json!({"worker": "w2", "wait_ms": 10000})).await;
    let again = &body["items"][0];
    assert_eq!(
        (again["id"].as_str(), again["attempt"].as_u64()),
        (Some(id.as_str()), Some(2))
    );
    // The old token is dead; the new one completes.
    let (status, _) = post(
        &c,
        &chime.url(&format!("/api/v1/jobs/{id}/complete")),
        json!({"lease_token": token}),
    )
    .await;
    assert_eq!(status, 409);
    let (status, done) = post(
        &c,
        &chime.url(&format!("/api/v1/jobs/{id}/complete")),
        json!({"lease_token": again["lease_token"], "output": "64x64"}),
    )
    .await;
    assert_eq!((status, done["state"].as_str()), (200, Some("succeeded")));
    let detail: Value = c
        .get(chime.url(&format!("/api/v1/jobs/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let attempts = detail["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(
        (
            attempts[0]["worker"].as_str(),
            attempts[0]["outcome"].as_str()
        ),
        (Some("w1"), Some("failed"))
    );
    assert_eq!(
        (
            attempts[1]["worker"].as_str(),
            attempts[1]["output"].as_str()
        ),
        (Some("w2"), Some("64x64"))
    );

    // retry=false: dead at once, attempts left or not.
    post(
        &c,
        &chime.url("/api/v1/jobs"),
        json!({"queue": "ext", "kind": "k"}),
    )
    .await;
    let (_, body) = claim(json!({"worker": "w1", "wait_ms": 10000})).await;
    let j = &body["items"][0];
    let (_, dead) = post(
        &c,
        &chime.url(&format!("/api/v1/jobs/{}/fail", j["id"].as_str().unwrap())),
        json!({"lease_token": j["lease_token"], "error": "bad input", "retry": false}),
    )
    .await;
    assert_eq!(dead["state"], "dead");

    // A paused queue hands out nothing.
    post(&c, &chime.url("/api/v1/queues/ext/pause"), json!({})).await;
    post(
        &c,
        &chime.url("/api/v1/jobs"),
        json!({"queue": "ext", "kind": "k"}),
    )
    .await;
    let (_, body) = claim(json!({"worker": "w1", "wait_ms": 200})).await;
    assert_eq!(body["items"].as_array().map(Vec::len), Some(0));

    // The attempts show in the metrics, by queue and outcome.
    let metrics = c
        .get(chime.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"chime_job_attempts_total{queue="ext",outcome="failed"} 2"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"chime_job_attempts_total{queue="ext",outcome="succeeded"} 1"#));
    assert!(metrics.contains(r#"chime_jobs_dead_total{queue="ext"} 1"#));
    assert!(metrics.contains(r#"chime_job_retries_total{queue="ext"} 1"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_example_worker_runs_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let chime = Chime::start(&dir.path().join("py.db"), &["--queues", "default"]).await;
    let c = reqwest::Client::new();
    let mut ids = Vec::new();
    for body in [
        json!({"queue": "py", "kind": "greet", "payload": {"name": "Ada"}}),
        json!({"queue": "py", "kind": "flaky", "backoff": {"initial_ms": 100, "max_ms": 100}}),
        json!({"queue": "py", "kind": "unknown.kind"}),
    ] {
        let (status, job) = post(&c, &chime.url("/api/v1/jobs"), body).await;
        assert_eq!(status, 201);
        ids.push(job["id"].as_str().unwrap().to_string());
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/worker.py");
    // greet, flaky twice, unknown: four claims.
    let out = tokio::process::Command::new("python3")
        .args([
            script,
            "--server",
            &chime.base,
            "--queue",
            "py",
            "--wait-ms",
            "2000",
            "--max-jobs",
            "4",
        ])
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), out)
        .await
        .expect("the worker finishes")
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state = |id: String| {
        let c = c.clone();
        let url = chime.url(&format!("/api/v1/jobs/{id}"));
        async move {
            let v: Value = c.get(url).send().await.unwrap().json().await.unwrap();
            v
        }
    };
    let greet = state(ids[0].clone()).await;
    assert_eq!(greet["state"], "succeeded");
    assert_eq!(greet["attempts"][0]["output"], "hello, Ada");
    wait_for(
        "flaky to succeed on its second attempt",
        Duration::from_secs(5),
        || {
            let s = state(ids[1].clone());
            async move { s.await["state"] == "succeeded" }
        },
    )
    .await;
    let flaky = state(ids[1].clone()).await;
    assert_eq!(flaky["attempt"], 2);
    let unknown = state(ids[2].clone()).await;
    assert_eq!(
        (unknown["state"].as_str(), unknown["attempt"].as_u64()),
        (Some("dead"), Some(1))
    );
}
