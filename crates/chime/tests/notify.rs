//! Failure notifications against the real binary: a dead job or missed
//! fires call the schedule's webhook, else the queue's, else the default,
//! signed and delivered as a job of their own.

mod support;

use serde_json::json;
use std::time::Duration;
use support::{post, wait_for, Chime, Receiver};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_jobs_and_missed_fires_call_the_nearest_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let config = dir.path().join("chime.toml");
    std::fs::write(
        &config,
        format!(
            r#"
signing_secret = "s3cret"

[on_failure]
webhook = {{ url = "{}" }}

[queue.special.on_failure]
webhook = {{ url = "{}" }}
"#,
            receiver.url("/default"),
            receiver.url("/special")
        ),
    )
    .unwrap();
    let db = dir.path().join("n.db");
    let config_arg = config.to_str().unwrap();
    let mut chime = Chime::start(&db, &["--config", config_arg]).await;
    let c = reqwest::Client::new();

    // No handler for the kind and one attempt: dead at once.
    for queue in ["plain", "special"] {
        let (status, _) = post(
            &c,
            &chime.url("/api/v1/jobs"),
            json!({"queue": queue, "kind": "no.handler", "max_attempts": 1}),
        )
        .await;
        assert_eq!(status, 201);
    }
    // A schedule with its own webhook beats the queue's and the default.
    let (status, sched) = post(&c, &chime.url("/api/v1/schedules"), json!({
        "name": "own", "every": "1h", "job": {"queue": "special", "kind": "no.handler", "max_attempts": 1},
        "on_failure": {"webhook": {"url": receiver.url("/own")}},
    })).await;
    assert_eq!(status, 201);
    let sched_id = sched["id"].as_str().unwrap().to_string();
    post(
        &c,
        &chime.url(&format!("/api/v1/schedules/{sched_id}/trigger")),
        json!({}),
    )
    .await;

    wait_for(
        "three dead-job notifications",
        Duration::from_secs(20),
        || {
            let n = receiver
                .hits()
                .iter()
                .filter(|h| h.body["event"] == "job.dead")
                .count();
            async move { n >= 3 }
        },
    )
    .await;
    let hits = receiver.hits();
    let at = |path: &str| {
        hits.iter()
            .find(|h| h.path == path)
            .cloned()
            .unwrap_or_else(|| panic!("no hit on {path}"))
    };
    let plain = at("/default");
    assert_eq!(
        (
            plain.body["job"]["queue"].as_str(),
            plain.body["job"]["attempt"].as_u64()
        ),
        (Some("plain"), Some(1))
    );
    assert!(plain.body["job"]["last_error"]
        .as_str()
        .unwrap()
        .contains("no handler"));
    assert_eq!(
        plain.signature.as_deref(),
        Some(chime_engine::executor::http::signature(b"s3cret", plain.raw.as_bytes()).as_str()),
        "notifications are signed like callbacks"
    );
    assert_eq!(at("/special").body["job"]["queue"], "special");
    let own = at("/own");
    assert_eq!(own.body["schedule"]["id"], sched_id.as_str());
    assert_eq!(own.body["schedule"]["name"], "own");

    // Missed fires: down for a few seconds with misfire = skip.
    let (status, tick) = post(
        &c,
        &chime.url("/api/v1/schedules"),
        json!({
            "name": "tick", "every": "1s", "misfire": "skip", "job": {"kind": "chime.noop"},
        }),
    )
    .await;
    assert_eq!(status, 201);
    chime.kill_9();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _chime = Chime::start(
        &db,
        &["--config", config_arg, "--misfire-threshold-ms", "500"],
    )
    .await;
    wait_for(
        "the missed-fires notification",
        Duration::from_secs(20),
        || {
            let n = receiver
                .hits()
                .iter()
                .filter(|h| h.body["event"] == "occurrence.missed")
                .count();
            async move { n >= 1 }
        },
    )
    .await;
    let missed = receiver
        .hits()
        .into_iter()
        .find(|h| h.body["event"] == "occurrence.missed")
        .unwrap();
    assert_eq!(missed.path, "/default");
    assert_eq!(missed.body["schedule"]["id"], tick["id"]);
    assert!(
        missed.body["missed"]["count"].as_u64().unwrap() >= 2,
        "{}",
        missed.body
    );
    assert_eq!(missed.body["missed"]["misfire_policy"], "skip");
}

/// A minimal SMTP server that keeps every message it is given.
async fn smtp_server() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let kept = mails.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = conn.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 test ESMTP\r\n").await;
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            if let Ok(mut m) = kept.lock() {
                                m.push(std::mem::take(body));
                            }
                            data = None;
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (port, mails)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_jobs_are_emailed_over_smtp() {
    let dir = tempfile::tempdir().unwrap();
    let (port, mails) = smtp_server().await;
    let config = dir.path().join("chime.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
from = "chime <chime@example.com>"

[queue.billing.on_failure]
email = ["ops@example.com", "billing@example.com"]
"#
        ),
    )
    .unwrap();
    let chime = Chime::start(
        &dir.path().join("m.db"),
        &["--config", config.to_str().unwrap()],
    )
    .await;
    let c = reqwest::Client::new();
    let (status, job) = post(
        &c,
        &chime.url("/api/v1/jobs"),
        json!({"queue": "billing", "kind": "invoice.send", "max_attempts": 1}),
    )
    .await;
    assert_eq!(status, 201);
    wait_for("the failure email", Duration::from_secs(20), || {
        let n = mails.lock().map(|m| m.len()).unwrap_or(0);
        async move { n >= 1 }
    })
    .await;
    let mail = mails.lock().unwrap()[0].clone();
    assert!(
        mail.contains("To: ops@example.com, billing@example.com"),
        "{mail}"
    );
    assert!(
        mail.contains("Subject: chime: job invoice.send in billing is dead"),
        "{mail}"
    );
    assert!(mail.contains(job["id"].as_str().unwrap()), "{mail}");

    // Without [smtp], a schedule may not ask for email.
    let plain = Chime::start(&dir.path().join("p.db"), &[]).await;
    let (status, body) = post(
        &c,
        &plain.url("/api/v1/schedules"),
        json!({
            "name": "x", "every": "1h", "job": {"kind": "k"},
            "on_failure": {"email": ["ops@example.com"]},
        }),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("on_failure.email"))
    );
}
