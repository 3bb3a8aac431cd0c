//! One params struct per Store method (River's driver style).

use chime_core::model::{
    AttemptOutcome, Job, JobState, JobTemplate, OccurrenceOutcome, Overlap, ScheduleSpec,
};
use jiff::{SignedDuration, Timestamp};

#[derive(Debug, Clone)]
pub struct ScheduleCreate {
    pub id: String,
    pub spec: ScheduleSpec,
    pub bucket: u32,
    pub next_fire_at: Option<Timestamp>,
    pub now: Option<Timestamp>,
}

#[derive(Debug, Clone, Default)]
pub struct ScheduleList {
    pub namespace: Option<String>,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    /// Ids after this one (ids sort by creation time).
    pub after_id: Option<String>,
    pub limit: u32,
}

#[derive(Debug, Clone)]
pub struct ScheduleUpdate {
    pub id: String,
    pub expected_version: Option<u64>,
    pub spec: ScheduleSpec,
    pub next_fire_at: Option<Timestamp>,
    /// Ledger entries to record with the change (e.g. fires skipped while paused).
    pub occurrences: Vec<NewOccurrence>,
    pub now: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct SchedulesDue {
    pub buckets: Vec<u32>,
    pub until: Timestamp,
    pub limit: u32,
}

/// A job to insert.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    pub namespace: String,
    pub job: JobTemplate,
    pub run_at: Timestamp,
    pub schedule_id: Option<String>,
    pub scheduled_for: Option<Timestamp>,
    pub unique_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    pub id: String,
    /// A pending or running job with the same unique key existed: `id` is its id.
    pub duplicate: bool,
}

/// A ledger entry to record, with the job it makes when it fired.
#[derive(Debug, Clone)]
pub struct NewOccurrence {
    pub scheduled_for: Timestamp,
    pub outcome: OccurrenceOutcome,
    pub reason: Option<String>,
    pub count: u64,
    pub last_scheduled_for: Option<Timestamp>,
    /// Only with `Fired`.
    pub job: Option<NewJob>,
}

/// The fires of one schedule in one batch.
#[derive(Debug, Clone)]
pub struct ScheduleFire {
    pub schedule_id: String,
    /// Fencing (DESIGN §2.5): applied only while `owner` holds `bucket` at `epoch`.
    pub bucket: u32,
    pub epoch: u64,
    /// Compare-and-set: the schedule's next fire and version must still be these.
    pub expected_next_fire_at: Timestamp,
    pub expected_version: u64,
    pub next_fire_at: Option<Timestamp>,
    pub overlap: Overlap,
    pub occurrences: Vec<NewOccurrence>,
}

#[derive(Debug, Clone)]
pub struct FireBatch {
    pub owner: String,
    pub fires: Vec<ScheduleFire>,
    pub now: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FireResult {
    /// Recorded; the ids of the jobs made (overlap `skip` can make none).
    Applied {
        job_ids: Vec<String>,
        skipped_overlap: bool,
    },
    /// Already fired, changed or deleted meanwhile: nothing written.
    Duplicate,
    /// The bucket lease is not held at that epoch: nothing written.
    StaleEpoch,
}

#[derive(Debug, Clone)]
pub struct BucketsAcquire {
    pub owner: String,
    pub buckets: Vec<u32>,
    pub ttl: SignedDuration,
    pub now: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketLease {
    pub bucket: u32,
    pub owner: String,
    /// Increments whenever the bucket changes owner.
    pub epoch: u64,
    pub expires_at: Timestamp,
}

/// An instance announcing it is alive (DESIGN §4: instances register and
/// heartbeat; buckets are shared among the live ones).
#[derive(Debug, Clone)]
pub struct InstanceBeat {
    pub id: String,
    /// Counted as gone if it does not beat again within this.
    pub ttl: SignedDuration,
    pub now: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    pub started_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct JobsClaim {
    /// Empty: every queue that is not paused.
    pub queues: Vec<String>,
    /// Claim jobs whose `run_at` is at or before this (default: now). A
    /// worker prefetching a little ahead starts each job at its `run_at`.
    pub due_by: Option<Timestamp>,
    /// Claim only jobs whose `run_at` is after this, earliest first: a
    /// worker claiming ahead of its free slots takes jobs not yet due and
    /// leaves those due to whoever has a slot.
    /// `None`: every job due by `due_by`, highest priority first.
    pub due_after: Option<Timestamp>,
    pub limit: u32,
    pub worker: String,
    pub lease: SignedDuration,
    pub now: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub job: Job,
    /// Proves ownership of this execution to heartbeat and complete.
    pub lease_token: String,
    pub lease_expires_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct JobsHeartbeat {
    pub job_id: String,
    pub lease_token: String,
    pub extend: SignedDuration,
    pub now: Option<Timestamp>,
}

/// What became of one execution.
#[derive(Debug, Clone, PartialEq)]
pub enum Completion {
    Succeeded,
    /// Run again at the given instant.
    Retry {
        at: Timestamp,
    },
    /// No more attempts.
    Dead,
}

#[derive(Debug, Clone)]
pub struct JobCompletion {
    pub job_id: String,
    pub lease_token: String,
    pub completion: Completion,
    pub outcome: AttemptOutcome,
    pub error: Option<String>,
    pub output: Option<String>,
    /// The job as the claim under `lease_token` returned it, if the caller
    /// still holds it. A backend may take the job's fixed fields from it
    /// instead of reading them (Redis does): while the lease holds they are
    /// current. The lease itself is always checked in the store.
    pub held: Option<std::sync::Arc<Job>>,
}

#[derive(Debug, Clone)]
pub struct JobsComplete {
    pub completions: Vec<JobCompletion>,
    pub now: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct JobsRescue {
    pub limit: u32,
    pub now: Option<Timestamp>,
}

#[derive(Debug, Clone, Default)]
pub struct JobsList {
    pub namespace: Option<String>,
    pub queue: Option<String>,
    pub state: Option<JobState>,
    pub schedule_id: Option<String>,
    /// Ids before this one (newest first).
    pub before_id: Option<String>,
    pub limit: u32,
}

#[derive(Debug, Clone)]
pub struct OccurrencesList {
    pub schedule_id: String,
    /// Entries strictly before this fire instant (newest first).
    pub before: Option<Timestamp>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueStats {
    pub queue: String,
    pub paused: bool,
    /// Pending with `run_at` passed.
    pub available: u64,
    /// Pending with `run_at` ahead (delayed jobs and retries in backoff).
    pub scheduled: u64,
    pub running: u64,
    pub succeeded: u64,
    pub dead: u64,
    pub cancelled: u64,
}

#[derive(Debug, Clone)]
pub struct RetentionPrune {
    pub jobs_finished_before: Timestamp,
    /// Per queue, a cutoff instead of `jobs_finished_before`.
    pub queues_finished_before: Vec<(String, Timestamp)>,
    pub occurrences_before: Timestamp,
    pub limit: u32,
}

impl RetentionPrune {
    /// `{queue: cutoff ms}` and the latest cutoff of all, as the SQL reads them.
    pub(crate) fn queue_cutoffs(&self) -> (String, i64) {
        let map: serde_json::Map<String, serde_json::Value> = self
            .queues_finished_before
            .iter()
            .map(|(q, t)| (q.clone(), t.as_millisecond().into()))
            .collect();
        let latest = self
            .queues_finished_before
            .iter()
            .map(|(_, t)| *t)
            .chain([self.jobs_finished_before])
            .max()
            .unwrap_or(self.jobs_finished_before);
        (
            serde_json::Value::Object(map).to_string(),
            latest.as_millisecond(),
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneCounts {
    pub jobs: u64,
    pub occurrences: u64,
}

impl NewOccurrence {
    pub fn fired(scheduled_for: Timestamp, job: NewJob) -> NewOccurrence {
        NewOccurrence {
            scheduled_for,
            outcome: OccurrenceOutcome::Fired,
            reason: None,
            count: 1,
            last_scheduled_for: None,
            job: Some(job),
        }
    }

    /// A run of `count` fires from `first` to `last` that did not fire.
    pub fn not_fired(
        outcome: OccurrenceOutcome,
        first: Timestamp,
        last: Timestamp,
        count: u64,
        reason: &str,
    ) -> NewOccurrence {
        NewOccurrence {
            scheduled_for: first,
            outcome,
            reason: Some(reason.to_string()),
            count,
            last_scheduled_for: (count > 1).then_some(last),
            job: None,
        }
    }
}

/// A new API token, as its hash (the secret is never stored).
#[derive(Debug, Clone)]
pub struct TokenCreate {
    pub id: String,
    pub name: String,
    pub role: chime_core::model::Role,
    pub namespace: String,
    /// SHA-256 of the secret, hex.
    pub hash: String,
    pub now: Option<Timestamp>,
}
