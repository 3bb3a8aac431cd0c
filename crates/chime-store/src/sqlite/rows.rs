//! Row ↔ model conversion. A row that does not decode is reported as a
//! corrupt record, never a panic (STYLE: no `expect` on stored data).

use crate::{Result, StoreError};
use chime_core::model::{
    Attempt, AttemptOutcome, Backoff, Job, JobState, JobTemplate, Occurrence, OccurrenceOutcome,
    Schedule, ScheduleSpec,
};
use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

pub fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub fn ts(ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms)
        .map_err(|_| StoreError::corrupt(format!("instant {ms} out of range")))
}

fn opt_ts(ms: Option<i64>) -> Result<Option<Timestamp>> {
    ms.map(ts).transpose()
}

fn json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::corrupt(format!("{what}: {e}")))
}

pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(StoreError::backend)
}

pub fn schedule(row: &SqliteRow) -> Result<Schedule> {
    let spec: ScheduleSpec = json(row.try_get::<&str, _>("spec")?, "schedule spec")?;
    Ok(Schedule {
        id: row.try_get("id")?,
        spec,
        version: row.try_get::<i64, _>("version")? as u64,
        next_fire_at: opt_ts(row.try_get("next_fire_at")?)?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

pub fn job(row: &SqliteRow) -> Result<Job> {
    let state: &str = row.try_get("state")?;
    let target: Option<&str> = row.try_get("target")?;
    Ok(Job {
        id: row.try_get("id")?,
        namespace: row.try_get("namespace")?,
        job: JobTemplate {
            queue: row.try_get("queue")?,
            kind: row.try_get("kind")?,
            payload: json(row.try_get::<&str, _>("payload")?, "job payload")?,
            priority: row.try_get("priority")?,
            max_attempts: row.try_get::<i64, _>("max_attempts")? as u32,
            timeout_ms: row.try_get::<i64, _>("timeout_ms")? as u64,
            backoff: Backoff {
                initial_ms: row.try_get::<i64, _>("backoff_initial_ms")? as u64,
                max_ms: row.try_get::<i64, _>("backoff_max_ms")? as u64,
            },
            target: target.map(|t| json(t, "job target")).transpose()?,
        },
        state: JobState::parse(state)
            .ok_or_else(|| StoreError::corrupt(format!("job state {state:?}")))?,
        attempt: row.try_get::<i64, _>("attempt")? as u32,
        run_at: ts(row.try_get("run_at")?)?,
        created_at: ts(row.try_get("created_at")?)?,
        finished_at: opt_ts(row.try_get("finished_at")?)?,
        schedule_id: row.try_get("schedule_id")?,
        scheduled_for: opt_ts(row.try_get("scheduled_for")?)?,
        unique_key: row.try_get("unique_key")?,
        worker: row.try_get("worker")?,
        lease_expires_at: opt_ts(row.try_get("lease_expires_at")?)?,
        last_error: row.try_get("last_error")?,
    })
}

pub fn attempt(row: &SqliteRow) -> Result<Attempt> {
    let outcome: Option<&str> = row.try_get("outcome")?;
    Ok(Attempt {
        job_id: row.try_get("job_id")?,
        attempt: row.try_get::<i64, _>("attempt")? as u32,
        worker: row.try_get("worker")?,
        started_at: ts(row.try_get("started_at")?)?,
        finished_at: opt_ts(row.try_get("finished_at")?)?,
        outcome: outcome
            .map(|o| {
                AttemptOutcome::parse(o)
                    .ok_or_else(|| StoreError::corrupt(format!("attempt outcome {o:?}")))
            })
            .transpose()?,
        error: row.try_get("error")?,
        output: row.try_get("output")?,
    })
}

pub fn occurrence(row: &SqliteRow) -> Result<Occurrence> {
    let outcome: &str = row.try_get("outcome")?;
    Ok(Occurrence {
        schedule_id: row.try_get("schedule_id")?,
        scheduled_for: ts(row.try_get("scheduled_for")?)?,
        outcome: OccurrenceOutcome::parse(outcome)
            .ok_or_else(|| StoreError::corrupt(format!("occurrence outcome {outcome:?}")))?,
        reason: row.try_get("reason")?,
        job_id: row.try_get("job_id")?,
        count: row.try_get::<i64, _>("count")? as u64,
        last_scheduled_for: opt_ts(row.try_get("last_scheduled_for")?)?,
        recorded_at: ts(row.try_get("recorded_at")?)?,
    })
}
