use crate::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use chime_engine::metrics;

/// Prometheus text: this instance's counters, and the jobs in the store by
/// queue and state (the same on every instance).
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String),
              (status = 401, description = "A token is required", body = crate::wire::ErrorBody),
              (status = 403, description = "The token's role does not cover this", body = crate::wire::ErrorBody)))]
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    let jobs = match app.store.queues_stats().await {
        Ok(stats) => stats
            .into_iter()
            .flat_map(|s| {
                [
                    ("available", s.available),
                    ("scheduled", s.scheduled),
                    ("running", s.running),
                    ("succeeded", s.succeeded),
                    ("dead", s.dead),
                    ("cancelled", s.cancelled),
                ]
                .map(|(state, n)| (s.queue.clone(), state, n))
            })
            .collect(),
        // Counted in chime_store_call_errors_total{op="queues_stats"}.
        Err(_) => Vec::new(),
    };
    (
        [(CONTENT_TYPE, metrics::CONTENT_TYPE)],
        app.service.events.metrics.render(&jobs),
    )
}
