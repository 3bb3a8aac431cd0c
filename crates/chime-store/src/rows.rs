//! Row ↔ model conversion, shared by the SQL backends: both store instants
//! as BIGINT milliseconds since the Unix epoch and JSON as text, so one
//! decoder serves both. A row that does not decode is reported as a corrupt
//! record, never a panic (STYLE: no `expect` on stored data).

use crate::{Result, StoreError};
use chime_core::model::{
    Attempt, AttemptOutcome, Backoff, Job, JobState, JobTemplate, Occurrence, OccurrenceOutcome,
    Schedule, ScheduleSpec,
};
use jiff::Timestamp;
use sqlx::Row;
use std::borrow::Cow;

/// The column reads the decoders need, for each SQL backend's row type.
pub trait Cols {
    fn i64(&self, col: &str) -> Result<i64>;
    fn opt_i64(&self, col: &str) -> Result<Option<i64>>;
    fn i32(&self, col: &str) -> Result<i32>;
    fn text(&self, col: &str) -> Result<&str>;
    fn opt_text(&self, col: &str) -> Result<Option<&str>>;
    fn string(&self, col: &str) -> Result<String> {
        self.text(col).map(str::to_string)
    }
    fn opt_string(&self, col: &str) -> Result<Option<String>> {
        Ok(self.opt_text(col)?.map(str::to_string))
    }
}

macro_rules! cols_for {
    ($row:ty) => {
        impl Cols for $row {
            fn i64(&self, col: &str) -> Result<i64> {
                Ok(self.try_get(col)?)
            }
            fn opt_i64(&self, col: &str) -> Result<Option<i64>> {
                Ok(self.try_get(col)?)
            }
            fn i32(&self, col: &str) -> Result<i32> {
                Ok(self.try_get(col)?)
            }
            fn text(&self, col: &str) -> Result<&str> {
                Ok(self.try_get(col)?)
            }
            fn opt_text(&self, col: &str) -> Result<Option<&str>> {
                Ok(self.try_get(col)?)
            }
        }
    };
}
cols_for!(sqlx::sqlite::SqliteRow);
cols_for!(sqlx::postgres::PgRow);

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

pub fn schedule(row: &impl Cols) -> Result<Schedule> {
    let spec: ScheduleSpec = json(row.text("spec")?, "schedule spec")?;
    Ok(Schedule {
        id: row.string("id")?,
        spec,
        version: row.i64("version")? as u64,
        next_fire_at: opt_ts(row.opt_i64("next_fire_at")?)?,
        created_at: ts(row.i64("created_at")?)?,
        updated_at: ts(row.i64("updated_at")?)?,
    })
}

pub fn job(row: &impl Cols) -> Result<Job> {
    let state = row.text("state")?;
    let target = row.opt_text("target")?;
    Ok(Job {
        id: row.string("id")?,
        namespace: row.string("namespace")?,
        job: JobTemplate {
            queue: row.string("queue")?,
            kind: row.string("kind")?,
            payload: json(row.text("payload")?, "job payload")?,
            priority: row.i32("priority")?,
            max_attempts: row.i64("max_attempts")? as u32,
            timeout_ms: row.i64("timeout_ms")? as u64,
            backoff: Backoff {
                initial_ms: row.i64("backoff_initial_ms")? as u64,
                max_ms: row.i64("backoff_max_ms")? as u64,
            },
            target: target.map(|t| json(t, "job target")).transpose()?,
        },
        state: JobState::parse(state)
            .ok_or_else(|| StoreError::corrupt(format!("job state {state:?}")))?,
        attempt: row.i64("attempt")? as u32,
        run_at: ts(row.i64("run_at")?)?,
        created_at: ts(row.i64("created_at")?)?,
        finished_at: opt_ts(row.opt_i64("finished_at")?)?,
        schedule_id: row.opt_string("schedule_id")?,
        scheduled_for: opt_ts(row.opt_i64("scheduled_for")?)?,
        unique_key: row.opt_string("unique_key")?,
        worker: row.opt_string("worker")?,
        lease_expires_at: opt_ts(row.opt_i64("lease_expires_at")?)?,
        last_error: row.opt_string("last_error")?,
    })
}

pub fn attempt(row: &impl Cols) -> Result<Attempt> {
    let outcome = row.opt_text("outcome")?;
    Ok(Attempt {
        job_id: row.string("job_id")?,
        attempt: row.i64("attempt")? as u32,
        worker: row.string("worker")?,
        started_at: ts(row.i64("started_at")?)?,
        finished_at: opt_ts(row.opt_i64("finished_at")?)?,
        outcome: outcome
            .map(|o| {
                AttemptOutcome::parse(o)
                    .ok_or_else(|| StoreError::corrupt(format!("attempt outcome {o:?}")))
            })
            .transpose()?,
        error: row.opt_string("error")?,
        output: row.opt_string("output")?,
    })
}

pub fn occurrence(row: &impl Cols) -> Result<Occurrence> {
    let outcome = row.text("outcome")?;
    Ok(Occurrence {
        schedule_id: row.string("schedule_id")?,
        scheduled_for: ts(row.i64("scheduled_for")?)?,
        outcome: OccurrenceOutcome::parse(outcome)
            .ok_or_else(|| StoreError::corrupt(format!("occurrence outcome {outcome:?}")))?,
        reason: row.opt_string("reason")?,
        job_id: row.opt_string("job_id")?,
        count: row.i64("count")? as u64,
        last_scheduled_for: opt_ts(row.opt_i64("last_scheduled_for")?)?,
        recorded_at: ts(row.i64("recorded_at")?)?,
    })
}

/// One column of a new job as a backend stores it.
pub enum Col<'a> {
    Text(Cow<'a, str>),
    Int(i64),
    Null,
}

/// A new job's columns by name (payload and target as JSON text, instants
/// as milliseconds): the batch inserts' rows and the Redis job hash.
pub fn job_columns(job: &crate::NewJob) -> Result<[(&'static str, Col<'_>); 15]> {
    let t = &job.job;
    Ok([
        ("id", Col::Text(Cow::Borrowed(&job.id))),
        ("namespace", Col::Text(Cow::Borrowed(&job.namespace))),
        ("queue", Col::Text(Cow::Borrowed(&t.queue))),
        ("kind", Col::Text(Cow::Borrowed(&t.kind))),
        ("payload", Col::Text(Cow::Owned(to_json(&t.payload)?))),
        ("priority", Col::Int(i64::from(t.priority))),
        ("max_attempts", Col::Int(i64::from(t.max_attempts))),
        ("timeout_ms", Col::Int(t.timeout_ms as i64)),
        ("backoff_initial_ms", Col::Int(t.backoff.initial_ms as i64)),
        ("backoff_max_ms", Col::Int(t.backoff.max_ms as i64)),
        (
            "target",
            match &t.target {
                Some(target) => Col::Text(Cow::Owned(to_json(target)?)),
                None => Col::Null,
            },
        ),
        ("run_at", Col::Int(ms(job.run_at))),
        ("schedule_id", opt_text(&job.schedule_id)),
        (
            "scheduled_for",
            job.scheduled_for.map_or(Col::Null, |t| Col::Int(ms(t))),
        ),
        ("unique_key", opt_text(&job.unique_key)),
    ])
}

fn opt_text(v: &Option<String>) -> Col<'_> {
    v.as_deref()
        .map_or(Col::Null, |s| Col::Text(Cow::Borrowed(s)))
}

/// A new job as a JSON object for the batch inserts.
pub fn job_row(job: &crate::NewJob) -> Result<serde_json::Value> {
    let row = job_columns(job)?
        .into_iter()
        .map(|(name, col)| {
            let value = match col {
                Col::Text(s) => serde_json::Value::String(s.into_owned()),
                Col::Int(n) => serde_json::Value::from(n),
                Col::Null => serde_json::Value::Null,
            };
            (name.to_string(), value)
        })
        .collect();
    Ok(serde_json::Value::Object(row))
}

pub fn token(row: &impl Cols) -> Result<chime_core::model::Token> {
    let role = row.text("role")?;
    Ok(chime_core::model::Token {
        id: row.string("id")?,
        name: row.string("name")?,
        role: chime_core::model::Role::parse(role)
            .ok_or_else(|| StoreError::corrupt(format!("token role {role:?}")))?,
        namespace: row.string("namespace")?,
        created_at: ts(row.i64("created_at")?)?,
    })
}

pub fn instance(row: &impl Cols) -> Result<crate::Instance> {
    Ok(crate::Instance {
        id: row.string("id")?,
        started_at: ts(row.i64("started_at")?)?,
        expires_at: ts(row.i64("expires_at")?)?,
    })
}

/// A schedule spec as stored: fields at their default value are left out
/// (serde's defaults bring them back), which halves a typical spec. A spec
/// that would not read back equal is stored whole.
pub fn spec_json(spec: &chime_core::model::ScheduleSpec) -> Result<String> {
    // Every field at its default: built once, not on every write.
    static REFERENCE: std::sync::LazyLock<Option<serde_json::Value>> =
        std::sync::LazyLock::new(|| {
            // An HTTP target at its defaults too, so a stored target keeps
            // only its URL unless the method or headers differ.
            serde_json::from_value::<ScheduleSpec>(serde_json::json!({
                "name": "\u{0}",
                "job": {"kind": "\u{0}", "target": {"http": {"url": "\u{0}"}}},
            }))
            .ok()
            .and_then(|spec| serde_json::to_value(spec).ok())
        });
    let full = serde_json::to_value(spec).map_err(StoreError::backend)?;
    let Some(reference) = REFERENCE.as_ref() else {
        return to_json(&full);
    };
    let mut compact = full.clone();
    strip_defaults(&mut compact, reference);
    match serde_json::from_value::<ScheduleSpec>(compact.clone()) {
        Ok(back) if back == *spec => to_json(&compact),
        _ => to_json(&full),
    }
}

/// Removes the fields of `value` equal to those of `reference`, inside
/// nested objects too; an object left empty stays (it may be required).
fn strip_defaults(value: &mut serde_json::Value, reference: &serde_json::Value) {
    let (serde_json::Value::Object(map), serde_json::Value::Object(defaults)) = (value, reference)
    else {
        return;
    };
    map.retain(|k, v| defaults.get(k) != Some(v));
    for (k, v) in map.iter_mut() {
        if let Some(d) = defaults.get(k) {
            strip_defaults(v, d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_specs_leave_out_defaults_and_read_back_equal() {
        let spec: ScheduleSpec = serde_json::from_value(serde_json::json!({
            "name": "nightly", "cron": "15 2 * * *", "timezone": "Europe/Berlin",
            "job": {"kind": "report", "queue": "reports", "payload": {"account": 1}, "priority": 5},
            "overlap": "skip"
        }))
        .unwrap();
        let stored = spec_json(&spec).unwrap();
        let back: ScheduleSpec = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, spec);
        assert!(!stored.contains("max_attempts"), "{stored}");
        assert!(!stored.contains("namespace"), "{stored}");
        assert!(stored.contains("\"priority\":5"), "{stored}");
        assert!(stored.contains("skip"), "{stored}");
        // A job with nothing but defaults must still be stored.
        let bare: ScheduleSpec =
            serde_json::from_value(serde_json::json!({"name": "n", "every": "1s", "job": {}}))
                .unwrap();
        let stored = spec_json(&bare).unwrap();
        assert_eq!(serde_json::from_str::<ScheduleSpec>(&stored).unwrap(), bare);
    }
}
