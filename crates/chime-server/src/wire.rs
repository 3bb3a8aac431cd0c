//! The API's response shapes beyond the domain types, shared with the CLI
//! client so both sides read one definition.

use chime_core::model::{Attempt, Job};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One page of a list, with the cursor of the next page.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// A page of at most `limit` items; a full page may have a next one,
    /// found after the last item's `cursor`.
    pub fn of(items: Vec<T>, limit: u32, cursor: impl Fn(&T) -> String) -> Page<T> {
        let next = (items.len() == limit as usize)
            .then(|| items.last().map(&cursor))
            .flatten();
        Page { items, next }
    }
}

/// A list returned whole.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct List<T> {
    pub items: Vec<T>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Queue {
    pub name: String,
    pub paused: bool,
    pub counts: QueueCounts,
}

impl From<chime_store::QueueStats> for Queue {
    fn from(s: chime_store::QueueStats) -> Queue {
        Queue {
            name: s.queue,
            paused: s.paused,
            counts: QueueCounts {
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

/// Jobs of a queue by state; `available` are due now, `scheduled` later.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct QueueCounts {
    pub available: u64,
    pub scheduled: u64,
    pub running: u64,
    pub succeeded: u64,
    pub dead: u64,
    pub cancelled: u64,
}

/// A job with its attempts and the key callbacks carry (`GET /jobs/{id}`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobDetail {
    #[serde(flatten)]
    pub job: Job,
    pub idempotency_key: String,
    pub attempts: Vec<Attempt>,
}

/// A live instance and the schedule buckets it holds.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Instance {
    pub id: String,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    pub buckets: u32,
}

/// Every 4xx and 5xx body: `{"error": {"code", "message", "field"}}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    /// The request field at fault, for `invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// A job claimed by an external worker: the lease token proves ownership
/// to heartbeat, complete and fail; `lease_expires_at` is on the job.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Claimed {
    #[serde(flatten)]
    pub job: Job,
    pub lease_token: String,
    /// Stable across retries: pass it to whatever the job calls.
    pub idempotency_key: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Lease {
    #[schema(value_type = String, format = DateTime)]
    pub lease_expires_at: Timestamp,
}
