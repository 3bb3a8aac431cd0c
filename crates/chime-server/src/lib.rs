//! chime's HTTP API (DESIGN §6), served by `chime serve`.

mod auth;
mod dashboard;
mod error;
mod extract;
pub mod openapi;
mod routes;
pub mod wire;

pub use auth::{required_role, Access};
pub use error::ApiError;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use chime_engine::service::Service;
use chime_store::Store;
use std::sync::Arc;

/// Request bodies above this get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub store: Arc<dyn Store>,
}

/// The whole HTTP surface; with [`Access::Tokens`] every route but the
/// health checks needs a token whose role covers it.
pub fn router(service: Service, access: Access) -> Router {
    use routes::{health, instances, jobs, metrics, queues, schedules, workers};
    let state = AppState {
        store: service.store.clone(),
        service,
    };
    let api = Router::new()
        .route("/schedules", post(schedules::create).get(schedules::list))
        .route(
            "/schedules/{id}",
            get(schedules::get)
                .patch(schedules::patch)
                .delete(schedules::delete),
        )
        .route("/schedules/{id}/pause", post(schedules::pause))
        .route("/schedules/{id}/resume", post(schedules::resume))
        .route("/schedules/{id}/trigger", post(schedules::trigger))
        .route("/schedules/{id}/occurrences", get(schedules::occurrences))
        .route("/jobs", post(jobs::enqueue).get(jobs::list))
        .route("/jobs/{id}", get(jobs::get).delete(jobs::delete))
        .route("/jobs/{id}/cancel", post(jobs::cancel))
        .route("/jobs/{id}/retry", post(jobs::retry))
        .route("/queues", get(queues::list))
        .route("/queues/{queue}/pause", post(queues::pause))
        .route("/queues/{queue}/resume", post(queues::resume))
        .route("/queues/{queue}/claim", post(workers::claim))
        .route("/jobs/{id}/heartbeat", post(workers::heartbeat))
        .route("/jobs/{id}/complete", post(workers::complete))
        .route("/jobs/{id}/fail", post(workers::fail))
        .route("/instances", get(instances::list));
    let guarded = Router::new()
        .nest("/api/v1", api)
        .route("/metrics", get(metrics::metrics))
        .fallback(not_found)
        .route_layer(axum::middleware::from_fn_with_state(
            access.clone(),
            auth::require,
        ));
    let dash = dashboard::router(state.clone(), access);
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(openapi_json))
        .merge(guarded)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .merge(dash)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

async fn openapi_json() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi::document(),
    )
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}
