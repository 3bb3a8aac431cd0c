//! Helpers for tests that start the real `chime` binary: a process handle
//! that waits for readiness and kills on drop, an HTTP receiver that records
//! callbacks, and a poll-until helper (tests wait on conditions, never on
//! fixed sleeps).

#![allow(dead_code)]

pub mod webdriver;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Chime {
    pub child: Child,
    pub base: String,
    pub db: PathBuf,
    /// Its standard error (the log).
    pub log: PathBuf,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Chime {
    /// `chime serve` on a SQLite file; its log goes beside the file.
    pub async fn start(db: &Path, extra: &[&str]) -> Chime {
        let mut chime = Chime::start_on(
            &format!("sqlite://{}", db.display()),
            db.parent().unwrap_or(Path::new(".")),
            extra,
        )
        .await;
        chime.db = db.to_path_buf();
        chime
    }

    /// `chime serve --db URL`, logging to a file in `log_dir`.
    pub async fn start_on(url: &str, log_dir: &Path, extra: &[&str]) -> Chime {
        Chime::launch(
            Command::new(env!("CARGO_BIN_EXE_chime")),
            url,
            log_dir,
            extra,
        )
        .await
    }

    /// As `start_on`, with this process's wall clock `skew` off (libfaketime,
    /// e.g. "+30s"); its monotonic clock is left alone. The library is
    /// preloaded into chime itself, so killing the child kills chime.
    pub async fn start_skewed(url: &str, log_dir: &Path, extra: &[&str], skew: &str) -> Chime {
        let lib = [
            "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
            "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
        ]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("libfaketime is missing: scripts/test installs Debian's faketime");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_chime"));
        cmd.env("LD_PRELOAD", lib)
            .env("FAKETIME", skew)
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
        Chime::launch(cmd, url, log_dir, extra).await
    }

    async fn launch(mut cmd: Command, url: &str, log_dir: &Path, extra: &[&str]) -> Chime {
        let port = free_port();
        let log_path = log_dir.join(format!("chime-{port}.log"));
        let log = std::fs::File::create(&log_path).expect("log file");
        let child = cmd
            .arg("serve")
            .arg("--db")
            .arg(url)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start chime");
        let chime = Chime {
            child,
            base: format!("http://127.0.0.1:{port}"),
            db: PathBuf::new(),
            log: log_path,
        };
        let client = reqwest::Client::new();
        let url = format!("{}/readyz", chime.base);
        wait_for("chime to be ready", Duration::from_secs(30), || {
            let client = client.clone();
            let url = url.clone();
            async move {
                client
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        })
        .await;
        chime
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn sigterm(&self) {
        self.signal("TERM");
    }

    /// `kill -NAME` to the process (`HUP`, `STOP`, …).
    pub fn signal(&self, name: &str) {
        let _ = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status();
    }
}

impl Drop for Chime {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn wait_for<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub job_id: String,
    pub schedule_id: Option<String>,
    pub scheduled_at: Option<String>,
    pub attempt: u32,
    pub idempotency_key: String,
    pub body: Value,
    /// The body as sent, and its `Chime-Signature`, to check signing.
    pub raw: String,
    pub signature: Option<String>,
    pub at: Instant,
}

/// Records every callback. `/fail` answers 500, `/reject` 400, `/slow` 200
/// after two seconds, anything else 200.
#[derive(Clone, Default)]
pub struct Receiver {
    pub hits: Arc<Mutex<Vec<Hit>>>,
    pub addr: Option<SocketAddr>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let app = axum::Router::new()
            .fallback(record)
            .with_state(hits.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            hits,
            addr: Some(addr),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr.expect("started"))
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

async fn record(
    State(hits): State<Arc<Mutex<Vec<Hit>>>>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let hit = Hit {
        path: uri.path().to_string(),
        job_id: h("chime-job-id").unwrap_or_default(),
        schedule_id: h("chime-schedule-id"),
        scheduled_at: h("chime-scheduled-at"),
        attempt: h("chime-attempt").and_then(|a| a.parse().ok()).unwrap_or(0),
        idempotency_key: h("idempotency-key").unwrap_or_default(),
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
        signature: h("chime-signature"),
        raw: body,
        at: Instant::now(),
    };
    let path = hit.path.clone();
    if let Ok(mut hits) = hits.lock() {
        hits.push(hit);
    }
    match path.as_str() {
        "/fail" => StatusCode::INTERNAL_SERVER_ERROR,
        "/reject" => StatusCode::BAD_REQUEST,
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            StatusCode::OK
        }
        _ => StatusCode::OK,
    }
}

pub async fn post(client: &reqwest::Client, url: &str, body: Value) -> (u16, Value) {
    let r = client.post(url).json(&body).send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub async fn get(client: &reqwest::Client, url: &str) -> Value {
    client
        .get(url)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON")
}
