use crate::error::ApiError;
use crate::openapi::Refusals;
use crate::wire::{Instance, List};
use crate::AppState;
use axum::extract::State;

/// The live instances, each with the number of buckets it leases.
#[utoipa::path(get, path = "/api/v1/instances", tag = "instances",
    responses((status = 200, description = "The live instances", body = List<Instance>), Refusals))]
pub async fn list(State(app): State<AppState>) -> Result<axum::Json<List<Instance>>, ApiError> {
    let leases = app.store.buckets_list().await?;
    let items = app
        .store
        .instances_list()
        .await?
        .into_iter()
        .map(|i| Instance {
            buckets: leases.iter().filter(|l| l.owner == i.id).count() as u32,
            id: i.id,
            started_at: i.started_at,
            expires_at: i.expires_at,
        })
        .collect();
    Ok(axum::Json(List { items }))
}
