use std::fmt;

/// Errors of the storage seam. The API maps each kind to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("version conflict: expected {expected}, found {found}")]
    Conflict { expected: u64, found: u64 },
    /// A heartbeat or completion under a lease that is no longer current.
    #[error(
        "lease lost: the job's lease expired, moved to another worker, or the job was cancelled"
    )]
    LeaseLost,
    /// The operation does not apply to the record's current state.
    #[error("{0}")]
    InvalidState(String),
    #[error("storage backend: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Backend(Box::new(e))
    }

    pub fn corrupt(what: impl fmt::Display) -> StoreError {
        StoreError::Backend(format!("corrupt record: {what}").into())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::backend(e)
    }
}
