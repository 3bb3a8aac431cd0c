//! `chime serve` as a user runs it: the real binary on a temp SQLite file,
//! HTTP targets pointing at a local receiver.

mod support;

use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use support::{get, post, wait_for, Chime, Receiver};

fn every(name: &str, interval: &str, url: &str) -> Value {
    json!({"name": name, "every": interval, "job": {"kind": "ping", "payload": {"name": name}, "target": {"http": {"url": url}}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_second_schedules_make_one_job_per_fire() {
    let dir = tempfile::tempdir().unwrap();
    let chime = Chime::start(&dir.path().join("chime.db"), &[]).await;
    let receiver = Receiver::start().await;
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for i in 0..20 {
        let (status, body) = post(
            &client,
            &chime.url("/api/v1/schedules"),
            every(&format!("s{i}"), "1s", &receiver.url("/hook")),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().unwrap().to_string());
    }
    let want: HashSet<String> = ids.iter().cloned().collect();
    wait_for(
        "four fires of every schedule",
        Duration::from_secs(30),
        || {
            let hits = receiver.hits();
            let want = want.clone();
            async move {
                let mut per: HashMap<String, usize> = HashMap::new();
                for h in hits.iter().filter_map(|h| h.schedule_id.clone()) {
                    *per.entry(h).or_default() += 1;
                }
                want.iter().all(|id| per.get(id).copied().unwrap_or(0) >= 4)
            }
        },
    )
    .await;
    // Each fire key has exactly one job, delivered once, on attempt 1.
    let hits = receiver.hits();
    let mut by_key: HashMap<String, HashSet<String>> = HashMap::new();
    for h in &hits {
        assert_eq!(h.attempt, 1);
        let key = format!(
            "{}@{}",
            h.schedule_id.clone().unwrap(),
            h.scheduled_at.clone().unwrap()
        );
        by_key.entry(key).or_default().insert(h.job_id.clone());
    }
    assert!(
        by_key.values().all(|jobs| jobs.len() == 1),
        "a fire made two jobs"
    );
    assert_eq!(by_key.len(), hits.len(), "a job was delivered twice");
    for id in &ids {
        let mut instants: Vec<String> = hits
            .iter()
            .filter(|h| h.schedule_id.as_deref() == Some(id))
            .filter_map(|h| h.scheduled_at.clone())
            .collect();
        instants.sort();
        // Whole consecutive seconds, none skipped.
        let secs: Vec<i64> = instants
            .iter()
            .map(|s| s.parse::<jiff::Timestamp>().unwrap().as_second())
            .collect();
        assert!(
            secs.windows(2).all(|w| w[1] - w[0] == 1),
            "{id}: {instants:?}"
        );
        let ledger = get(
            &client,
            &chime.url(&format!("/api/v1/schedules/{id}/occurrences")),
        )
        .await;
        assert!(ledger["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["outcome"] == "fired"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_target_is_retried_then_dead() {
    let dir = tempfile::tempdir().unwrap();
    let chime = Chime::start(&dir.path().join("chime.db"), &[]).await;
    let receiver = Receiver::start().await;
    let client = reqwest::Client::new();
    let job = |path: &str| {
        json!({"kind": "flaky", "max_attempts": 3, "backoff": {"initial_ms": 100, "max_ms": 200},
        "target": {"http": {"url": receiver.url(path)}}})
    };
    let (status, failing) = post(&client, &chime.url("/api/v1/jobs"), job("/fail")).await;
    assert_eq!(status, 201, "{failing}");
    let (_, rejected) = post(&client, &chime.url("/api/v1/jobs"), job("/reject")).await;
    for (job, attempts) in [(&failing, 3), (&rejected, 1)] {
        let url = chime.url(&format!("/api/v1/jobs/{}", job["id"].as_str().unwrap()));
        wait_for("the job to be dead", Duration::from_secs(20), || {
            let client = client.clone();
            let url = url.clone();
            async move { get(&client, &url).await["state"] == "dead" }
        })
        .await;
        let detail = get(&client, &url).await;
        let list = detail["attempts"].as_array().unwrap();
        assert_eq!(list.len(), attempts, "{detail}");
        assert!(list.iter().all(|a| a["outcome"] == "failed"), "{detail}");
    }
    let hits: Vec<_> = receiver
        .hits()
        .into_iter()
        .filter(|h| h.path == "/fail")
        .collect();
    assert_eq!(
        hits.iter().map(|h| h.attempt).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(
        hits.iter()
            .all(|h| h.idempotency_key == failing["id"].as_str().unwrap()),
        "stable idempotency key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_and_restart_keep_schedules_and_apply_misfire() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chime.db");
    let threshold = ["--misfire-threshold-ms", "1000"];
    let mut chime = Chime::start(&db, &threshold).await;
    let receiver = Receiver::start().await;
    let client = reqwest::Client::new();
    let mut once = every("once", "1s", &receiver.url("/hook"));
    once["misfire"] = json!("fire_once");
    let mut skip = every("skip", "1s", &receiver.url("/hook"));
    skip["misfire"] = json!("skip");
    let (_, once) = post(&client, &chime.url("/api/v1/schedules"), once).await;
    let (_, skip) = post(&client, &chime.url("/api/v1/schedules"), skip).await;
    wait_for("a first fire of each", Duration::from_secs(20), || {
        let n = receiver.hits().len();
        async move { n >= 2 }
    })
    .await;
    chime.kill_9();
    tokio::time::sleep(Duration::from_secs(4)).await; // down for a few fires
    let chime = Chime::start(&db, &threshold).await;
    let list = get(&client, &chime.url("/api/v1/schedules")).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        2,
        "schedules survive kill -9"
    );
    for (schedule, policy) in [(&once, "fire_once"), (&skip, "skip")] {
        let id = schedule["id"].as_str().unwrap().to_string();
        let url = chime.url(&format!("/api/v1/schedules/{id}/occurrences?limit=500"));
        wait_for(
            "the missed run in the ledger",
            Duration::from_secs(20),
            || {
                let client = client.clone();
                let url = url.clone();
                async move {
                    get(&client, &url).await["items"]
                        .as_array()
                        .is_some_and(|l| l.iter().any(|o| o["outcome"] == "missed"))
                }
            },
        )
        .await;
        let ledger = get(&client, &url).await;
        let items = ledger["items"].as_array().unwrap();
        let missed: Vec<&Value> = items.iter().filter(|o| o["outcome"] == "missed").collect();
        assert_eq!(missed.len(), 1, "{policy}: one entry for the run: {ledger}");
        assert!(
            missed[0]["count"].as_u64().unwrap() >= 2,
            "{policy}: {ledger}"
        );
        let instants: Vec<&str> = items
            .iter()
            .filter_map(|o| o["scheduled_for"].as_str())
            .collect();
        let unique: HashSet<&&str> = instants.iter().collect();
        assert_eq!(
            unique.len(),
            instants.len(),
            "{policy}: a fire key recorded twice"
        );
        let last_missed = missed[0]["last_scheduled_for"]
            .as_str()
            .or(missed[0]["scheduled_for"].as_str())
            .unwrap()
            .to_string();
        // Firing resumes after the restart: a fired entry later than the missed run.
        wait_for(
            "a fire after the missed run",
            Duration::from_secs(20),
            || {
                let client = client.clone();
                let url = url.clone();
                let last_missed = last_missed.clone();
                async move {
                    get(&client, &url).await["items"]
                        .as_array()
                        .is_some_and(|l| {
                            l.iter().any(|o| {
                                o["outcome"] == "fired"
                                    && o["scheduled_for"]
                                        .as_str()
                                        .is_some_and(|t| t > last_missed.as_str())
                            })
                        })
                }
            },
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_running_job_finish() {
    let dir = tempfile::tempdir().unwrap();
    let mut chime = Chime::start(&dir.path().join("chime.db"), &[]).await;
    let receiver = Receiver::start().await;
    let client = reqwest::Client::new();
    let (_, job) = post(
        &client,
        &chime.url("/api/v1/jobs"),
        json!({"target": {"http": {"url": receiver.url("/slow")}}}),
    )
    .await;
    wait_for("the slow call to start", Duration::from_secs(20), || {
        let n = receiver.hits().len();
        async move { n == 1 }
    })
    .await;
    chime.sigterm();
    let status = tokio::task::spawn_blocking(move || {
        let status = chime.child.wait().expect("wait");
        (status, chime)
    })
    .await
    .unwrap();
    assert!(status.0.success(), "chime exits cleanly: {:?}", status.0);
    // Restart on the same file: the job finished before the process left.
    let chime = Chime::start(&status.1.db, &[]).await;
    let detail = get(
        &client,
        &chime.url(&format!("/api/v1/jobs/{}", job["id"].as_str().unwrap())),
    )
    .await;
    assert_eq!(detail["state"], "succeeded", "{detail}");
}
