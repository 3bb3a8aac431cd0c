//! API tokens against the real binary: roles, 401/403 that say nothing about
//! the resource, revocation, and the refusal to serve beyond loopback
//! without tokens.

mod support;

use serde_json::{json, Value};
use std::process::Command;
use std::time::Duration;
use support::{wait_for, Chime};

fn chime(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chime"))
        .args(args)
        .env_remove("CHIME_TOKEN")
        .output()
        .expect("run chime")
}

fn create_token(db: &str, role: &str) -> String {
    let out = chime(&[
        "token", "create", "--db", db, "--name", role, "--role", role,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        secret.starts_with("chime_") && secret.len() == 46,
        "{secret}"
    );
    secret
}

async fn call(
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_decide_and_refusals_reveal_nothing() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.db");
    let db = format!("sqlite://{}", path.display());
    let read = create_token(&db, "read");
    let operator = create_token(&db, "operator");
    let admin = create_token(&db, "admin");
    let listed = String::from_utf8(chime(&["token", "ls", "--db", &db]).stdout).unwrap();
    assert_eq!(listed.lines().count(), 3, "{listed}");
    assert!(!listed.contains(&admin[6..]), "secrets are never listed");

    let server = Chime::start(&path, &["--auth"]).await;
    let url = |p: &str| server.url(p);

    // Health checks stay open; everything else wants a token.
    assert_eq!(call(Method::GET, url("/healthz"), None, None).await.0, 200);
    let (status, body) = call(Method::GET, url("/api/v1/schedules"), None, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    assert_eq!(call(Method::GET, url("/metrics"), None, None).await.0, 401);
    let forged = format!("chime_{}", "0".repeat(40));
    assert_eq!(
        call(Method::GET, url("/api/v1/queues"), Some(&forged), None)
            .await
            .0,
        401
    );

    // admin creates; read and operator may not.
    let spec = json!({"name": "n", "every": "1h", "job": {"kind": "chime.noop"}});
    let (status, body) = call(
        Method::POST,
        url("/api/v1/schedules"),
        Some(&read),
        Some(spec.clone()),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    assert_eq!(
        call(
            Method::POST,
            url("/api/v1/schedules"),
            Some(&operator),
            Some(spec.clone())
        )
        .await
        .0,
        403
    );
    let (status, created) = call(
        Method::POST,
        url("/api/v1/schedules"),
        Some(&admin),
        Some(spec),
    )
    .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap();

    // read reads; operator triggers; neither deletes.
    assert_eq!(
        call(
            Method::GET,
            url(&format!("/api/v1/schedules/{id}")),
            Some(&read),
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(Method::GET, url("/metrics"), Some(&read), None)
            .await
            .0,
        200
    );
    assert_eq!(
        call(
            Method::POST,
            url(&format!("/api/v1/schedules/{id}/trigger")),
            Some(&read),
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(
        call(
            Method::POST,
            url(&format!("/api/v1/schedules/{id}/trigger")),
            Some(&operator),
            None
        )
        .await
        .0,
        201
    );

    // The same refusal whether the schedule exists or not.
    let missing = "01a1fd00-0000-7000-8000-000000000000";
    for token in [None, Some(operator.as_str())] {
        let a = call(
            Method::DELETE,
            url(&format!("/api/v1/schedules/{id}")),
            token,
            None,
        )
        .await;
        let b = call(
            Method::DELETE,
            url(&format!("/api/v1/schedules/{missing}")),
            token,
            None,
        )
        .await;
        assert!(a.0 == 401 || a.0 == 403, "{a:?}");
        assert_eq!(a, b, "a refusal must not tell whether the schedule exists");
    }
    let a = call(
        Method::GET,
        url(&format!("/api/v1/schedules/{id}")),
        None,
        None,
    )
    .await;
    let b = call(
        Method::GET,
        url(&format!("/api/v1/schedules/{missing}")),
        None,
        None,
    )
    .await;
    assert_eq!(a, b);

    // The CLI sends CHIME_TOKEN; without one it exits 4.
    let out = Command::new(env!("CARGO_BIN_EXE_chime"))
        .args(["schedule", "ls", "--server", &server.base])
        .env_remove("CHIME_TOKEN")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_chime"))
        .args(["schedule", "ls", "--server", &server.base])
        .env("CHIME_TOKEN", &read)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(id));

    // Revoked: refused once the instance's short cache lapses.
    let ids = String::from_utf8(chime(&["token", "ls", "--db", &db]).stdout).unwrap();
    let read_id = ids
        .lines()
        .find(|l| l.contains(" read "))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert!(chime(&["token", "rm", "--db", &db, &read_id])
        .status
        .success());
    assert_eq!(
        chime(&["token", "rm", "--db", &db, &read_id]).status.code(),
        Some(3)
    );
    wait_for(
        "the revoked token to be refused",
        Duration::from_secs(20),
        || {
            let u = url("/api/v1/queues");
            let t = read.clone();
            async move { call(Method::GET, u, Some(&t), None).await.0 == 401 }
        },
    )
    .await;
}

#[tokio::test]
async fn refuses_to_serve_beyond_loopback_without_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("open.db").display());
    let port = support::free_port().to_string();
    let out = chime(&["serve", "--db", &db, "--listen", &format!("0.0.0.0:{port}")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--auth") && err.contains("--insecure"),
        "{err}"
    );
    let out = chime(&[
        "token", "create", "--db", &db, "--name", "x", "--role", "root",
    ]);
    assert_eq!(out.status.code(), Some(2), "an unknown role is bad input");
}
