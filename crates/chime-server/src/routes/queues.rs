use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, State};
use chime_store::QueueStats;
use serde::Serialize;

#[derive(Serialize)]
pub struct Queue {
    name: String,
    paused: bool,
    counts: Counts,
}

#[derive(Serialize)]
pub struct Counts {
    available: u64,
    scheduled: u64,
    running: u64,
    succeeded: u64,
    dead: u64,
    cancelled: u64,
}

impl From<QueueStats> for Queue {
    fn from(s: QueueStats) -> Self {
        Queue {
            name: s.queue,
            paused: s.paused,
            counts: Counts {
                available: s.available,
                scheduled: s.scheduled,
                running: s.running,
                succeeded: s.succeeded,
                dead: s.dead,
                cancelled: s.cancelled,
            },
        }
    }
}

#[derive(Serialize)]
pub struct Queues {
    items: Vec<Queue>,
}

pub async fn list(State(app): State<AppState>) -> Result<axum::Json<Queues>, ApiError> {
    let items = app
        .store
        .queues_stats()
        .await?
        .into_iter()
        .map(Queue::from)
        .collect();
    Ok(axum::Json(Queues { items }))
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

pub async fn pause(
    State(app): State<AppState>,
    Path(queue): Path<String>,
) -> Result<axum::Json<Queue>, ApiError> {
    set_paused(app, queue, true).await
}

pub async fn resume(
    State(app): State<AppState>,
    Path(queue): Path<String>,
) -> Result<axum::Json<Queue>, ApiError> {
    set_paused(app, queue, false).await
}
