use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{json, Value};

/// The process is up.
pub async fn healthz() -> axum::Json<Value> {
    axum::Json(json!({"status": "ok"}))
}

/// The process can reach its store.
pub async fn readyz(State(app): State<AppState>) -> (StatusCode, axum::Json<Value>) {
    match app.store.now().await {
        Ok(_) => (StatusCode::OK, axum::Json(json!({"status": "ready"}))),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "unavailable", "error": e.to_string()})),
        ),
    }
}
