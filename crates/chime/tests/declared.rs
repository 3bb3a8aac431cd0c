//! The schedules file and the config file against the real binary: two
//! instances applying one file converge to one copy of each schedule with
//! no fire doubled, SIGHUP applies changes and removals, file and API
//! schedules leave each other alone, and `chime config check` names bad
//! settings.

mod support;

use chime_store::postgres::PostgresStore;
use chime_store::{JobsList, Store};
use chime_testkit::PgSchema;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::process::Command;
use std::time::Duration;
use support::{get, post, wait_for, Chime};

const FIRST: &str = r#"
[schedules.tick]
every = "1s"
job = { kind = "chime.noop", queue = "ticks" }

[schedules.nightly]
name = "Nightly report"
cron = "15 2 * * *"
timezone = "Europe/Berlin"
job = { kind = "report.nightly", payload = { account = 7 } }
"#;

const SECOND: &str = r#"
[schedules.tick]
every = "1s"
job = { kind = "chime.noop", queue = "ticks" }

[schedules.hourly]
every = "1h"
job = { kind = "chime.noop" }
"#;

async fn schedules(c: &reqwest::Client, base: &str) -> Vec<Value> {
    get(c, &format!("{base}/api/v1/schedules?limit=500")).await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_converge_on_one_schedules_file() {
    let schema = PgSchema::create().await;
    let store = PostgresStore::open(&schema.url).await.expect("postgres");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schedules.toml");
    std::fs::write(&file, FIRST).unwrap();
    let file_arg = file.to_str().unwrap();
    let extra = ["--schedules", file_arg];
    // Started together, so both apply the file at the same moment.
    let (a, b) = tokio::join!(
        Chime::start_on(&schema.url, dir.path(), &extra),
        Chime::start_on(&schema.url, dir.path(), &extra),
    );
    let c = reqwest::Client::new();

    // An API schedule beside the file's: neither touches the other.
    let (status, mine) = post(
        &c,
        &a.url("/api/v1/schedules"),
        json!({"name": "mine", "every": "1h", "job": {"kind": "chime.noop"}}),
    )
    .await;
    assert_eq!(status, 201);

    wait_for("both file schedules", Duration::from_secs(20), || {
        let c = c.clone();
        let base = a.base.clone();
        async move { schedules(&c, &base).await.len() == 3 }
    })
    .await;
    let all = schedules(&c, &a.base).await;
    let ids: HashSet<&str> = all.iter().filter_map(|s| s["id"].as_str()).collect();
    assert!(
        ids.contains("file:tick") && ids.contains("file:nightly"),
        "{ids:?}"
    );
    let nightly = all.iter().find(|s| s["id"] == "file:nightly").unwrap();
    assert_eq!(nightly["name"], "Nightly report");
    assert_eq!(nightly["version"], 1, "applied once, not once per instance");

    // The API may not change what the file owns; it may pause it.
    let r = c
        .delete(a.url("/api/v1/schedules/file:nightly"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
    let r = c
        .patch(a.url("/api/v1/schedules/file:nightly"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "owned_by_file");
    let (status, _) = post(&c, &a.url("/api/v1/schedules/file:tick/pause"), json!({})).await;
    assert_eq!(status, 200);
    let (status, _) = post(&c, &a.url("/api/v1/schedules/file:tick/resume"), json!({})).await;
    assert_eq!(status, 200);

    // Change the file; both instances reload on SIGHUP.
    std::fs::write(&file, SECOND).unwrap();
    a.signal("HUP");
    b.signal("HUP");
    wait_for("the second file applied", Duration::from_secs(20), || {
        let c = c.clone();
        let base = b.base.clone();
        async move {
            let ids: HashSet<String> = schedules(&c, &base)
                .await
                .iter()
                .filter_map(|s| s["id"].as_str().map(String::from))
                .collect();
            ids.contains("file:hourly") && !ids.contains("file:nightly")
        }
    })
    .await;
    let all = schedules(&c, &b.base).await;
    assert_eq!(all.len(), 3, "tick, hourly and the API's own");
    assert!(
        all.iter().any(|s| s["id"] == mine["id"]),
        "the API schedule is untouched"
    );
    let tick = all.iter().find(|s| s["id"] == "file:tick").unwrap();
    assert_eq!(tick["paused"], false);

    // The every-second schedule fired on both instances' watch, once per instant.
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(store);
    wait_for("ticks to fire", Duration::from_secs(20), || {
        let store = store.clone();
        async move {
            store
                .jobs_list(JobsList {
                    queue: Some("ticks".into()),
                    limit: 500,
                    ..Default::default()
                })
                .await
                .map_or(0, |j| j.len())
                >= 3
        }
    })
    .await;
    let jobs = store
        .jobs_list(JobsList {
            queue: Some("ticks".into()),
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    let instants: HashSet<_> = jobs.iter().filter_map(|j| j.scheduled_for).collect();
    assert_eq!(
        instants.len(),
        jobs.iter().filter(|j| j.scheduled_for.is_some()).count(),
        "a fire instant made two jobs"
    );
}

fn chime(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chime"));
    cmd.args(args);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CHIME_")) {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("run chime")
}

#[test]
fn config_check_resolves_file_env_and_flags_and_names_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("chime.toml");
    let schedules = dir.path().join("schedules.toml");
    std::fs::write(&schedules, FIRST).unwrap();
    std::fs::write(
        &config,
        format!(
            r#"
db = "sqlite://{}/c.db"
listen = "127.0.0.1:7999"
concurrency = 20
default_timezone = "Europe/Berlin"
schedules = "{}"

[retention]
finished_jobs = "3d"
[retention.queues.audit]
finished_jobs = "365d"
"#,
            dir.path().display(),
            schedules.display()
        ),
    )
    .unwrap();
    let path = config.to_str().unwrap();
    let out = chime(&["config", "check", "--config", path], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("concurrency = 20"), "{text}");
    assert!(text.contains("\"Europe/Berlin\""));
    assert!(text.contains("retention.finished_jobs = \"259200s\""));
    assert!(text.contains("retention.queues.audit.finished_jobs = \"31536000s\""));
    assert!(text.contains("2 schedules"));
    // Environment over file, flag over environment.
    let out = chime(
        &["config", "check", "--config", path],
        &[("CHIME_CONCURRENCY", "7")],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("concurrency = 7"));
    let out = chime(
        &["config", "check", "--config", path, "--concurrency", "9"],
        &[("CHIME_CONCURRENCY", "7")],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("concurrency = 9"));

    // Bad settings: exit 2, the setting named.
    for (body, named) in [
        ("concurency = 3", "concurency"),
        ("default_timezone = \"Mars/Olympus\"", "default_timezone"),
        (
            "[retention]\nfinished_jobs = \"soon\"",
            "retention.finished_jobs",
        ),
        ("db = \"mysql://x\"", "db"),
        ("listen = \"0.0.0.0:7070\"", "listen"),
    ] {
        std::fs::write(&config, body).unwrap();
        let out = chime(&["config", "check", "--config", path], &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{body}: {err}");
        assert!(err.contains(named), "{body}: {err}");
    }
    std::fs::write(
        &schedules,
        "[schedules.bad]\nevery = \"1m\"\njob = { priority = \"high\" }\n",
    )
    .unwrap();
    std::fs::write(&config, format!("schedules = \"{}\"", schedules.display())).unwrap();
    let out = chime(&["config", "check", "--config", path], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("schedules.bad.job.priority"));
}

/// The examples in docs/configuration.md are checked as written.
#[test]
fn the_documented_examples_pass_config_check() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/configuration.md"
    ))
    .unwrap();
    let blocks: Vec<&str> = doc
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    assert_eq!(
        blocks.len(),
        2,
        "the config example, then the schedules example"
    );
    let dir = tempfile::tempdir().unwrap();
    let schedules = dir.path().join("schedules.toml");
    std::fs::write(&schedules, blocks[1]).unwrap();
    let config = dir.path().join("chime.toml");
    std::fs::write(
        &config,
        blocks[0].replace("/etc/chime/schedules.toml", schedules.to_str().unwrap()),
    )
    .unwrap();
    let out = chime(
        &["config", "check", "--config", config.to_str().unwrap()],
        &[],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("2 schedules") && text.contains("queue.payments.on_failure.webhook"),
        "{text}"
    );
    assert!(
        !text.contains("change-me") && !text.contains("secret@"),
        "secrets are not printed: {text}"
    );
}
