//! Job bookkeeping shared by the backends: the batch rows of a
//! completion, what an expired lease turns a job into, and queue counts.

use crate::params::*;
use crate::rows::ms;
use chime_core::model::{Backoff, JobState};
use chime_core::retry::backoff_delay;
use jiff::Timestamp;
use serde_json::{json, Value};

/// The state a completion moves its job to, and when a retry runs.
pub(crate) fn completion_state(c: &Completion) -> (JobState, Option<Timestamp>) {
    match *c {
        Completion::Succeeded => (JobState::Succeeded, None),
        Completion::Retry { at } => (JobState::Pending, Some(at)),
        Completion::Dead => (JobState::Dead, None),
    }
}

/// `{id, token, state, run_at, finished_at, error}` for the finish batch.
pub(crate) fn finish_row(c: &JobCompletion, now: Timestamp) -> Value {
    let (state, run_at) = completion_state(&c.completion);
    let run_at = run_at.map(ms);
    let finished_at = (state != JobState::Pending).then(|| ms(now));
    json!({
        "id": c.job_id, "token": c.lease_token, "state": state.as_str(),
        "run_at": run_at, "finished_at": finished_at, "error": c.error,
    })
}

/// `{id, attempt, outcome, error, output}` closing the attempt that ended.
pub(crate) fn attempt_end_row(c: &JobCompletion, attempt: i64) -> Value {
    json!({
        "id": c.job_id, "attempt": attempt, "outcome": c.outcome.as_str(),
        "error": c.error, "output": c.output,
    })
}

/// A completion as one row for the stores that finish the job and close
/// its attempt in one step: `finish_row` plus `outcome` and `output`. Its
/// `finished_at` only says whether to stamp one (the store's clock does).
pub(crate) fn completion_row(c: &JobCompletion, now: Option<Timestamp>) -> Value {
    let mut row = finish_row(c, now.unwrap_or(Timestamp::UNIX_EPOCH));
    row["outcome"] = json!(c.outcome.as_str());
    row["output"] = json!(c.output);
    row
}

/// A job whose lease expired: the execution counts as an attempt (DESIGN
/// §2.4), so it is retried after its backoff or, out of attempts, dead.
/// Returns the new state, `run_at` and `finished_at`.
pub(crate) fn after_expired_lease(
    attempt: i64,
    max_attempts: i64,
    backoff: &Backoff,
    now: Timestamp,
) -> (JobState, Timestamp, Option<Timestamp>) {
    if attempt < max_attempts {
        let delay = backoff_delay(backoff, attempt as u32, fastrand::u64(..));
        (
            JobState::Pending,
            now.saturating_add(delay).unwrap_or(now),
            None,
        )
    } else {
        (JobState::Dead, now, Some(now))
    }
}

/// Adds paused queues without jobs and sorts by name.
pub(crate) fn with_paused(mut stats: Vec<QueueStats>, paused: Vec<String>) -> Vec<QueueStats> {
    for s in &mut stats {
        s.paused = paused.contains(&s.queue);
    }
    for name in paused {
        if !stats.iter().any(|s| s.queue == name) {
            stats.push(QueueStats {
                queue: name,
                paused: true,
                ..QueueStats::default()
            });
        }
    }
    stats.sort_by(|a, b| a.queue.cmp(&b.queue));
    stats
}
