//! The API's contract (DESIGN §6) against the router over a real SQLite
//! store: status codes, the error body, and that bad input writes nothing.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chime_core::time::SystemClock;
use chime_engine::service::Service;
use chime_engine::Events;
use chime_store::sqlite::SqliteStore;
use chime_store::{ScheduleList, Store};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

struct Api {
    router: axum::Router,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

async fn api() -> Api {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("chime.db").display());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&url).await.unwrap());
    let service = Service {
        store: store.clone(),
        clock: Arc::new(SystemClock),
        events: Events::new(),
        buckets: 256,
        default_zone: chime_core::Zone::utc(),
        allow_commands: false,
        email: false,
    };
    Api {
        router: chime_server::router(service, chime_server::Access::Open),
        store,
        _dir: dir,
    }
}

impl Api {
    async fn call(&self, method: Method, path: &str, body: Option<&str>) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn schedules(&self) -> usize {
        self.store
            .schedules_list(ScheduleList {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap()
            .len()
    }
}

fn error_of(body: &Value) -> (&str, Option<&str>) {
    (
        body["error"]["code"].as_str().unwrap_or("?"),
        body["error"]["field"].as_str(),
    )
}

#[tokio::test]
async fn create_get_patch_delete_a_schedule() {
    let api = api().await;
    let body = json!({"name": "nightly", "cron": "30 2 * * *", "timezone": "Asia/Shanghai", "job": {"kind": "report"}});
    let (status, created) = api
        .call(Method::POST, "/api/v1/schedules", Some(&body.to_string()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    assert!(created["next_fire_at"]
        .as_str()
        .unwrap()
        .ends_with(":30:00Z"));
    assert_eq!(created["version"], 1);
    let (status, got) = api
        .call(Method::GET, &format!("/api/v1/schedules/{id}"), None)
        .await;
    assert_eq!((status, &got), (StatusCode::OK, &created));

    let (status, patched) = api
        .call(
            Method::PATCH,
            &format!("/api/v1/schedules/{id}"),
            Some(r#"{"cron": "0 3 * * *", "version": 1}"#),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        (patched["cron"].as_str(), patched["version"].as_u64()),
        (Some("0 3 * * *"), Some(2))
    );
    assert_eq!(
        patched["timezone"], "Asia/Shanghai",
        "merge patch keeps other fields"
    );
    let (status, stale) = api
        .call(
            Method::PATCH,
            &format!("/api/v1/schedules/{id}"),
            Some(r#"{"name": "x", "version": 1}"#),
        )
        .await;
    assert_eq!(
        (status, error_of(&stale).0),
        (StatusCode::CONFLICT, "conflict")
    );

    let (status, paused) = api
        .call(Method::POST, &format!("/api/v1/schedules/{id}/pause"), None)
        .await;
    assert_eq!(
        (status, paused["paused"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (status, job) = api
        .call(
            Method::POST,
            &format!("/api/v1/schedules/{id}/trigger"),
            None,
        )
        .await;
    assert_eq!(
        (status, job["schedule_id"].as_str()),
        (StatusCode::CREATED, Some(id))
    );

    let (status, _) = api
        .call(Method::DELETE, &format!("/api/v1/schedules/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = api
        .call(Method::GET, &format!("/api/v1/schedules/{id}"), None)
        .await;
    assert_eq!(
        (status, error_of(&gone).0),
        (StatusCode::NOT_FOUND, "not_found")
    );
}

#[tokio::test]
async fn bad_input_is_a_4xx_naming_the_field_and_writes_nothing() {
    let api = api().await;
    let cases: Vec<(String, StatusCode, &str, Option<&str>)> = vec![
        ("{not json".into(), StatusCode::BAD_REQUEST, "invalid_json", None),
        (r#"{"name": "a", "cron": "61 * * * *", "job": {}}"#.into(), StatusCode::BAD_REQUEST, "invalid", Some("cron")),
        (r#"{"name": "a", "cron": "* * * * *", "timezone": "Mars/Base", "job": {}}"#.into(), StatusCode::BAD_REQUEST, "invalid", Some("timezone")),
        (r#"{"name": "a", "every": "1m", "job": {"priority": "high"}}"#.into(), StatusCode::BAD_REQUEST, "invalid", Some("job.priority")),
        (r#"{"name": "a", "every": "1m", "job": {}, "colour": "red"}"#.into(), StatusCode::BAD_REQUEST, "invalid", None),
        (r#"{"name": "a", "every": "1m", "job": {"target": {"http": {"url": "file:///etc/passwd"}}}}"#.into(), StatusCode::BAD_REQUEST, "invalid", Some("job.target.http.url")),
        (r#"{"name": "a", "every": "1m", "job": {"target": {"command": {"argv": ["rm"]}}}}"#.into(), StatusCode::BAD_REQUEST, "invalid", Some("job.target.command")),
        (r#"{"name": "a", "job": {}}"#.into(), StatusCode::BAD_REQUEST, "invalid", Some("cron")),
        (r#"[1, 2]"#.into(), StatusCode::BAD_REQUEST, "invalid", None),
        (format!(r#"{{"name": "a", "every": "1m", "job": {{"payload": "{}"}}}}"#, "x".repeat(2 * 1024 * 1024)), StatusCode::PAYLOAD_TOO_LARGE, "too_large", None),
    ];
    for (body, status, code, field) in cases {
        let (got_status, got) = api
            .call(Method::POST, "/api/v1/schedules", Some(&body))
            .await;
        let shown = &body[..body.len().min(80)];
        assert_eq!(got_status, status, "{shown}: {got}");
        let (got_code, got_field) = error_of(&got);
        assert_eq!(got_code, code, "{shown}: {got}");
        if field.is_some() {
            assert_eq!(got_field, field, "{shown}: {got}");
        }
        assert!(
            !got["error"]["message"].as_str().unwrap_or("").is_empty(),
            "{shown}: {got}"
        );
    }
    assert_eq!(api.schedules().await, 0, "rejected requests wrote nothing");
}

#[tokio::test]
async fn jobs_enqueue_list_cancel_retry() {
    let api = api().await;
    let (status, job) = api
        .call(Method::POST, "/api/v1/jobs", Some(r#"{"kind": "email", "payload": {"to": "a@b"}, "delay_ms": 60000, "unique_key": "welcome-1"}"#))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    let id = job["id"].as_str().unwrap();
    let (status, dup) = api
        .call(
            Method::POST,
            "/api/v1/jobs",
            Some(r#"{"kind": "email", "unique_key": "welcome-1"}"#),
        )
        .await;
    assert_eq!(
        (status, dup["id"].as_str()),
        (StatusCode::OK, Some(id)),
        "duplicate returns the existing job"
    );
    let (_, list) = api
        .call(Method::GET, "/api/v1/jobs?state=pending", None)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (status, bad) = api
        .call(Method::GET, "/api/v1/jobs?state=sleeping", None)
        .await;
    assert_eq!(
        (status, error_of(&bad)),
        (StatusCode::BAD_REQUEST, ("invalid", Some("state")))
    );
    let (_, queues) = api.call(Method::GET, "/api/v1/queues", None).await;
    assert_eq!(queues["items"][0]["counts"]["scheduled"], 1);
    let (status, cancelled) = api
        .call(Method::POST, &format!("/api/v1/jobs/{id}/cancel"), None)
        .await;
    assert_eq!(
        (status, cancelled["state"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (status, again) = api
        .call(Method::POST, &format!("/api/v1/jobs/{id}/cancel"), None)
        .await;
    assert_eq!(
        (status, error_of(&again).0),
        (StatusCode::CONFLICT, "invalid_state")
    );
    let (status, retried) = api
        .call(Method::POST, &format!("/api/v1/jobs/{id}/retry"), None)
        .await;
    assert_eq!(
        (status, retried["state"].as_str()),
        (StatusCode::OK, Some("pending"))
    );
    let (status, detail) = api
        .call(Method::GET, &format!("/api/v1/jobs/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["idempotency_key"], id);
    assert!(detail["attempts"].as_array().unwrap().is_empty());
    let (status, _) = api.call(Method::GET, "/api/v1/jobs/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn health_unknown_routes_and_methods() {
    let api = api().await;
    assert_eq!(
        api.call(Method::GET, "/healthz", None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        api.call(Method::GET, "/readyz", None).await.0,
        StatusCode::OK
    );
    let (status, body) = api.call(Method::GET, "/api/v1/nothing", None).await;
    assert_eq!(
        (status, error_of(&body).0),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, body) = api.call(Method::PUT, "/api/v1/schedules", Some("{}")).await;
    assert_eq!(
        (status, error_of(&body).0),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    let (status, body) = api
        .call(Method::GET, "/api/v1/schedules?limit=0", None)
        .await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, ("invalid", Some("limit")))
    );
}
