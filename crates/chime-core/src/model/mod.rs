//! The records chime stores and shows: schedules, jobs, attempts and the
//! occurrence ledger. Field names are the API's (DESIGN §6).

pub mod job;
pub mod occurrence;
pub mod schedule;
pub mod token;
pub mod validate;

pub use job::{
    Attempt, AttemptOutcome, Backoff, CommandTarget, HttpTarget, Job, JobSpec, JobState,
    JobTemplate, Target,
};
pub use occurrence::{Occurrence, OccurrenceOutcome};
pub use schedule::{Misfire, MisfirePolicy, OnFailure, Overlap, Schedule, ScheduleSpec};
pub use token::{Role, Token};
pub use validate::FieldError;

/// The namespace every record belongs to unless told otherwise (DESIGN §8).
pub const DEFAULT_NAMESPACE: &str = "default";

/// A new time-ordered id (UUIDv7): sorts by creation time, which keeps
/// b-tree inserts at the right edge in every backend.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub(crate) fn default_namespace() -> String {
    DEFAULT_NAMESPACE.to_string()
}
