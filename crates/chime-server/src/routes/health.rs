use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{json, Value};

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "Up", body = Object)))]
pub async fn healthz() -> axum::Json<Value> {
    axum::Json(json!({"status": "ok"}))
}

/// The process can reach its store.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "Ready", body = Object),
              (status = 503, description = "The store is unreachable", body = Object)))]
pub async fn readyz(State(app): State<AppState>) -> (StatusCode, axum::Json<Value>) {
    match app.store.now().await {
        Ok(_) => (StatusCode::OK, axum::Json(json!({"status": "ready"}))),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "unavailable", "error": e.to_string()})),
        ),
    }
}
