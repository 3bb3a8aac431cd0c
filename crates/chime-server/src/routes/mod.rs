pub mod health;
pub mod instances;
pub mod jobs;
pub mod metrics;
pub mod queues;
pub mod schedules;
pub mod workers;

pub use crate::wire::Page;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

pub fn limit(requested: Option<u32>) -> Result<u32, crate::error::ApiError> {
    let limit = requested.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(crate::error::ApiError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    Ok(limit)
}
