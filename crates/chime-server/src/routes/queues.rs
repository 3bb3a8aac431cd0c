use crate::error::ApiError;
use crate::openapi::Refusals;
use crate::wire::{List, Queue};
use crate::AppState;
use axum::extract::{Path, State};
use chime_store::QueueStats;

/// Every queue with its jobs by state.
#[utoipa::path(get, path = "/api/v1/queues", tag = "queues",
    responses((status = 200, description = "The queues", body = List<Queue>), Refusals))]
pub async fn list(State(app): State<AppState>) -> Result<axum::Json<List<Queue>>, ApiError> {
    let items = app
        .store
        .queues_stats()
        .await?
        .into_iter()
        .map(Queue::from)
        .collect();
    Ok(axum::Json(List { items }))
}

async fn set_paused(
    app: AppState,
    queue: String,
    paused: bool,
) -> Result<axum::Json<Queue>, ApiError> {
    chime_core::model::validate::name("queue", &queue)?;
    app.store.queues_set_paused(&queue, paused).await?;
    if !paused {
        app.service.events.jobs_ready();
    }
    let stats = app
        .store
        .queues_stats()
        .await?
        .into_iter()
        .find(|s| s.queue == queue)
        .unwrap_or(QueueStats {
            queue,
            paused,
            ..QueueStats::default()
        });
    Ok(axum::Json(stats.into()))
}

/// Stop claiming from a queue on every instance.
#[utoipa::path(post, path = "/api/v1/queues/{queue}/pause", tag = "queues", params(("queue" = String, Path)),
    responses((status = 200, description = "The queue", body = Queue), Refusals))]
pub async fn pause(
    State(app): State<AppState>,
    Path(queue): Path<String>,
) -> Result<axum::Json<Queue>, ApiError> {
    set_paused(app, queue, true).await
}

/// Claim from the queue again.
#[utoipa::path(post, path = "/api/v1/queues/{queue}/resume", tag = "queues", params(("queue" = String, Path)),
    responses((status = 200, description = "The queue", body = Queue), Refusals))]
pub async fn resume(
    State(app): State<AppState>,
    Path(queue): Path<String>,
) -> Result<axum::Json<Queue>, ApiError> {
    set_paused(app, queue, false).await
}
