use crate::error::ApiError;
use crate::openapi::Refusals;
use crate::wire::{Instance, List};
use crate::AppState;
use axum::extract::State;
use chime_store::Store;

/// The live instances, each with the number of buckets it leases.
#[utoipa::path(get, path = "/api/v1/instances", tag = "instances",
    responses((status = 200, description = "The live instances", body = List<Instance>), Refusals))]
pub async fn list(State(app): State<AppState>) -> Result<axum::Json<List<Instance>>, ApiError> {
    let items = live(app.store.as_ref()).await?;
    Ok(axum::Json(List { items }))
}

/// Live instances with the buckets whose lease they hold now (by the
/// store's clock); shared with the dashboard's overview.
pub async fn live(store: &dyn Store) -> chime_store::Result<Vec<Instance>> {
    let now = store.now().await?;
    let leases = store.buckets_list().await?;
    Ok(store
        .instances_list()
        .await?
        .into_iter()
        .map(|i| Instance {
            buckets: leases
                .iter()
                .filter(|l| l.owner == i.id && l.expires_at > now)
                .count() as u32,
            id: i.id,
            started_at: i.started_at,
            expires_at: i.expires_at,
        })
        .collect())
}
