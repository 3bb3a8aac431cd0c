//! What the hot scripts (enqueue, claim, completion, fire, the scheduler's
//! reload) take and give beyond their JSON parameters: jobs, completions
//! and fires as plain strings, and replies as arrays. cjson built a Lua
//! table per object and per field on every call, the largest share of
//! those scripts' cost after the writes themselves; plain strings arrive
//! in Lua as they are.

use super::fields::{FlatJob, JOB_DEFAULTS};
use super::schedule_key;
use super::schedule_record::Templates;
use crate::firing::skip_for_overlap;
use crate::jobs_common::completion_state;
use crate::params::{
    ClaimedJob, Enqueued, FireResult, JobCompletion, NewJob, NewOccurrence, ScheduleFire,
};
use crate::rows::{self, ms, ts, Col};
use crate::{Result, StoreError};
use chime_core::model::{JobState, Overlap, Schedule};
use redis::Value as Reply;

/// A job's score in its queue's ready set: priority (highest first), then
/// run_at, exact in a double (2001 priorities x 2^42 ms, 139 years from
/// 2020). lib_jobs.lua's ready_score is the same formula, for jobs it moves.
pub fn ready_score(priority: i32, run_at_ms: i64) -> String {
    const EPOCH: i64 = 1_577_836_800_000;
    let offset = (run_at_ms - EPOCH).max(0);
    (i64::from(1000 - priority) * 4_398_046_511_104 + offset).to_string()
}

/// Appends a new job as lib_jobs.lua's insert_job reads it: id, namespace,
/// queue, schedule_id, unique_key ('' for none), run_at, ready-set score,
/// its spec and its state (lib_jobs.lua's records), so the script formats
/// nothing per job. The spec is a JSON array of field and value strings
/// (every column but the id as text, nulls and JOB_DEFAULTS left out)
/// without its closing bracket: the script appends created_at.
pub fn job_args(job: &NewJob, out: &mut Vec<String>) -> Result<()> {
    let run_at = ms(job.run_at);
    let mut spec = Vec::with_capacity(16);
    for (name, col) in rows::job_columns(job)? {
        let text = match col {
            Col::Text(s) => s.into_owned(),
            Col::Int(n) => n.to_string(),
            Col::Null => continue,
        };
        let default = JOB_DEFAULTS.iter().any(|(n, v)| *n == name && *v == text);
        if name != "id" && !default {
            spec.push(name.to_string());
            spec.push(text);
        }
    }
    let mut spec = serde_json::to_string(&spec)
        .map_err(|e| StoreError::corrupt(format!("job {} spec: {e}", job.id)))?;
    spec.pop();
    out.extend([
        job.id.clone(),
        job.namespace.clone(),
        job.job.queue.clone(),
        job.schedule_id.clone().unwrap_or_default(),
        job.unique_key.clone().unwrap_or_default(),
        run_at.to_string(),
        ready_score(job.job.priority, run_at),
        spec,
        format!("pending,0,,{run_at},{},,,,,----", job.job.priority),
    ]);
    Ok(())
}

/// A text as lib_jobs.lua's state texts hold it: '-' for none, else its
/// length in bytes, ':' and the text.
pub fn packed_text(t: Option<&str>, out: &mut String) {
    match t {
        None => out.push('-'),
        Some(t) => {
            out.push_str(&t.len().to_string());
            out.push(':');
            out.push_str(t);
        }
    }
}

/// The queue most of a batch's completions share (jobs_complete.lua's
/// `queue`): a completion there needs none of its own.
pub fn completions_queue(completions: &[JobCompletion]) -> Option<&str> {
    completions
        .iter()
        .find_map(|c| c.held.as_deref().map(|j| j.job.queue.as_str()))
}

/// Appends a completion as jobs_complete.lua reads it: id, token, state,
/// outcome, then '' when the caller still holds the job, in the batch's
/// queue, with no retry time, error, output, unique key or schedule;
/// otherwise those as seven packed texts (run_at, error, output, queue,
/// namespace, unique key, schedule id), the queue '-' when the caller no
/// longer holds the job. Five strings where most completions need four:
/// Redis makes a Lua string of every argument.
pub fn completion_args(c: &JobCompletion, queue: Option<&str>, out: &mut Vec<String>) {
    let (state, run_at) = completion_state(&c.completion);
    let held = c.held.as_deref();
    let plain = run_at.is_none()
        && c.error.is_none()
        && c.output.is_none()
        && held.is_some_and(|j| {
            Some(j.job.queue.as_str()) == queue && j.unique_key.is_none() && j.schedule_id.is_none()
        });
    let more = if plain {
        String::new()
    } else {
        let mut m = String::new();
        let run_at = run_at.map(|t| ms(t).to_string());
        packed_text(run_at.as_deref(), &mut m);
        packed_text(c.error.as_deref(), &mut m);
        packed_text(c.output.as_deref(), &mut m);
        packed_text(held.map(|j| j.job.queue.as_str()), &mut m);
        packed_text(held.map(|j| j.namespace.as_str()), &mut m);
        packed_text(held.and_then(|j| j.unique_key.as_deref()), &mut m);
        packed_text(held.and_then(|j| j.schedule_id.as_deref()), &mut m);
        m
    };
    out.extend([
        c.job_id.clone(),
        c.lease_token.clone(),
        state.as_str().to_string(),
        c.outcome.as_str().to_string(),
        more,
    ]);
}

fn text(v: Reply, what: &str) -> Result<String> {
    match v {
        Reply::BulkString(b) => {
            String::from_utf8(b).map_err(|_| StoreError::corrupt(format!("{what}: not UTF-8")))
        }
        Reply::SimpleString(s) => Ok(s),
        Reply::Int(n) => Ok(n.to_string()),
        other => Err(StoreError::corrupt(format!("{what}: {other:?}"))),
    }
}

/// jobs_enqueue.lua's reply: id, duplicate (0|1) per job.
pub fn enqueued(reply: Vec<Reply>) -> Result<Vec<Enqueued>> {
    let mut items = reply.into_iter();
    let mut out = Vec::new();
    while let Some(id) = items.next() {
        let duplicate = match items.next() {
            Some(Reply::Int(d)) => d == 1,
            other => return Err(StoreError::corrupt(format!("enqueue reply: {other:?}"))),
        };
        out.push(Enqueued {
            id: text(id, "enqueued id")?,
            duplicate,
        });
    }
    Ok(out)
}

/// jobs_complete.lua's reply: 1 (applied) or 0 (lease lost) per completion.
pub fn applied(reply: Vec<Reply>, n: usize) -> Vec<Result<()>> {
    let mut flags = reply.into_iter();
    (0..n)
        .map(|_| match flags.next() {
            Some(Reply::Int(1)) => Ok(()),
            _ => Err(StoreError::LeaseLost),
        })
        .collect()
}

/// What a claimed job's state holds after its lease (jobs_claim.lua):
/// "run_at,priority,max_attempts,,,," then its four texts, of which a
/// job that waited has only the first, its last error.
struct Waited<'a> {
    run_at: &'a str,
    max_attempts: Option<&'a str>,
    last_error: Option<&'a str>,
}

impl<'a> Waited<'a> {
    fn parse(rest: &'a str) -> Option<Waited<'a>> {
        let mut parts = rest.splitn(7, ',');
        let (run_at, _priority, max) = (parts.next()?, parts.next()?, parts.next()?);
        for _ in 0..3 {
            parts.next()?;
        }
        let tail = parts.next()?;
        let last_error = match tail.strip_prefix('-') {
            Some(_) => None,
            None => {
                let (len, text) = tail.split_once(':')?;
                Some(text.get(..len.parse::<usize>().ok()?)?)
            }
        };
        Some(Waited {
            run_at,
            max_attempts: (!max.is_empty()).then_some(max),
            last_error,
        })
    }
}

/// jobs_claim.lua's reply: the claim's time and the lease's expiry, then
/// per job its id, spec (a JSON array of field, value strings) and new
/// state ("running,attempt,token," and what it waited with), onto which
/// the claim's own fields go back (the script wrote the same).
pub fn claimed(reply: Vec<Reply>, worker: &str, token: &str) -> Result<Vec<ClaimedJob>> {
    let mut items = reply.into_iter();
    let (Some(now), Some(expires)) = (items.next(), items.next()) else {
        return Err(StoreError::corrupt("claim reply: no time"));
    };
    let (now, expires) = (text(now, "claim time")?, text(expires, "lease expiry")?);
    let lease_expires_at = ts(expires
        .parse()
        .map_err(|_| StoreError::corrupt(format!("lease expiry {expires:?}")))?)?;
    let mut out = Vec::new();
    while let Some(id) = items.next() {
        let (Some(spec), Some(state)) = (items.next(), items.next()) else {
            return Err(StoreError::corrupt("claim reply: a job without its fields"));
        };
        let hash: Vec<String> = serde_json::from_str(&text(spec, "job spec")?)
            .map_err(|e| StoreError::corrupt(format!("claim reply: job spec: {e}")))?;
        let id = text(id, "claimed id")?;
        let state = text(state, "job state")?;
        let (attempt, waited) = state
            .strip_prefix("running,")
            .and_then(|s| s.split_once(','))
            .and_then(|(attempt, s)| {
                let rest = s.strip_prefix(token)?.strip_prefix(',')?;
                Some((attempt, Waited::parse(rest)?))
            })
            .ok_or_else(|| StoreError::corrupt(format!("job {id} state: {state:.80?}")))?;
        let mut set = vec![
            ("id", id.as_str()),
            ("attempt", attempt),
            ("state", JobState::Running.as_str()),
            ("worker", worker),
            ("lease_token", token),
            ("lease_expires_at", expires.as_str()),
            ("started_at", now.as_str()),
            ("run_at", waited.run_at),
        ];
        if let Some(max) = waited.max_attempts {
            set.push(("max_attempts", max));
        }
        if let Some(error) = waited.last_error {
            set.push(("last_error", error));
        }
        out.push(ClaimedJob {
            // Running: its lease fields count.
            job: rows::job(&FlatJob {
                set: &set,
                hash: &hash,
            })?,
            lease_token: token.to_string(),
            lease_expires_at,
        });
    }
    Ok(out)
}

/// schedules_due.lua's reply: the templates, then key and record per
/// schedule; earliest first.
pub fn due_schedules(reply: Vec<Reply>) -> Result<Vec<Schedule>> {
    let mut items = reply.into_iter();
    let count = match items.next() {
        Some(Reply::Int(n)) => n,
        None => return Ok(Vec::new()),
        Some(other) => return Err(StoreError::corrupt(format!("template count {other:?}"))),
    };
    let mut templates = Templates::default();
    for _ in 0..count {
        let (Some(reference), Some(template)) = (items.next(), items.next()) else {
            return Err(StoreError::corrupt("due schedules: templates cut short"));
        };
        templates.add(
            text(reference, "template reference")?,
            &text(template, "template")?,
        )?;
    }
    let mut out = Vec::new();
    while let (Some(key), Some(raw)) = (items.next(), items.next()) {
        out.push(templates.schedule(&text(key, "schedule key")?, &text(raw, "schedule record")?)?);
    }
    out.sort_by_key(|s| s.next_fire_at);
    Ok(out)
}

/// An occurrence's ledger entry up to its recording time, which the script
/// appends (with the closing brace): a fire writes one entry per
/// occurrence, and cjson would format its numbers slowly. Written by hand
/// with the keys of `occurrence_row`: built as a JSON value and printed,
/// it cost a fire more than the rest of its arguments together.
fn ledger_prefix(schedule_id: &str, occ: &NewOccurrence) -> Result<String> {
    fn string(out: &mut Vec<u8>, s: Option<&str>) -> Result<()> {
        match s {
            Some(s) => serde_json::to_writer(&mut *out, s)
                .map_err(|e| StoreError::corrupt(format!("a ledger entry: {e}"))),
            None => {
                out.extend_from_slice(b"null");
                Ok(())
            }
        }
    }
    let mut out = Vec::with_capacity(160 + schedule_id.len());
    out.extend_from_slice(b"{\"schedule_id\":");
    string(&mut out, Some(schedule_id))?;
    out.extend_from_slice(b",\"scheduled_for\":");
    out.extend_from_slice(ms(occ.scheduled_for).to_string().as_bytes());
    out.extend_from_slice(b",\"outcome\":");
    string(&mut out, Some(occ.outcome.as_str()))?;
    out.extend_from_slice(b",\"reason\":");
    string(&mut out, occ.reason.as_deref())?;
    out.extend_from_slice(b",\"job_id\":");
    string(&mut out, occ.job.as_ref().map(|j| j.id.as_str()))?;
    out.extend_from_slice(b",\"count\":");
    out.extend_from_slice((occ.count as i64).to_string().as_bytes());
    out.extend_from_slice(b",\"last_scheduled_for\":");
    match occ.last_scheduled_for {
        Some(t) => out.extend_from_slice(ms(t).to_string().as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"recorded_at\":");
    String::from_utf8(out).map_err(|_| StoreError::corrupt("a ledger entry is not UTF-8"))
}

/// Appends one schedule's fire as fire.lua reads it: its compare-and-set
/// fields as text, then each occurrence's instant, ledger entry, the entry
/// it records instead if overlap skips its job, and its job.
pub fn fire_args(f: &ScheduleFire, out: &mut Vec<String>) -> Result<()> {
    let overlap = match f.overlap {
        Overlap::Allow => "allow",
        Overlap::Skip => "skip",
        Overlap::Replace => "replace",
    };
    out.extend([
        f.schedule_id.clone(),
        schedule_key::of(&f.schedule_id),
        f.bucket.to_string(),
        f.epoch.to_string(),
        ms(f.expected_next_fire_at).to_string(),
        f.expected_version.to_string(),
        f.next_fire_at
            .map(|t| ms(t).to_string())
            .unwrap_or_default(),
        overlap.to_string(),
        f.occurrences.len().to_string(),
    ]);
    for occ in &f.occurrences {
        out.push(ms(occ.scheduled_for).to_string());
        out.push(ledger_prefix(&f.schedule_id, occ)?);
        let skipped = match (&occ.job, f.overlap) {
            (Some(_), Overlap::Skip) => {
                let mut held = occ.clone();
                skip_for_overlap(&mut held);
                ledger_prefix(&f.schedule_id, &held)?
            }
            _ => String::new(),
        };
        out.push(skipped);
        match &occ.job {
            Some(job) => {
                out.push("1".into());
                job_args(job, out)?;
            }
            None => out.push("0".into()),
        }
    }
    Ok(())
}

/// fire.lua's reply: per fire {'applied', skipped (0|1), job ids...},
/// {'duplicate'} or {'stale_epoch'}.
pub fn fire_results(reply: Vec<Reply>) -> Result<Vec<FireResult>> {
    reply
        .into_iter()
        .map(|r| {
            let Reply::Array(parts) = r else {
                return Err(StoreError::corrupt(format!("fire result {r:?}")));
            };
            let mut parts = parts.into_iter();
            let result = parts.next().map(|r| text(r, "fire result")).transpose()?;
            match result.as_deref() {
                Some("applied") => {
                    let skipped_overlap = matches!(parts.next(), Some(Reply::Int(1)));
                    let job_ids = parts
                        .map(|id| text(id, "fired job id"))
                        .collect::<Result<_>>()?;
                    Ok(FireResult::Applied {
                        job_ids,
                        skipped_overlap,
                    })
                }
                Some("duplicate") => Ok(FireResult::Duplicate),
                Some("stale_epoch") => Ok(FireResult::StaleEpoch),
                other => Err(StoreError::corrupt(format!("fire result {other:?}"))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firing::occurrence_row;
    use chime_core::model::{JobTemplate, OccurrenceOutcome};
    use jiff::Timestamp;
    use serde_json::Value;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// The hand-written entry is the JSON the SQL stores record, escapes
    /// and nulls included.
    #[test]
    fn ledger_entries_match_the_shared_occurrence_row() {
        let template: JobTemplate =
            serde_json::from_value(serde_json::json!({"kind": "k"})).unwrap();
        let fired = NewOccurrence::fired(
            at("2026-03-29T01:30:00Z"),
            NewJob {
                id: "job \"1\"".into(),
                namespace: "default".into(),
                job: template,
                run_at: at("2026-03-29T01:30:00Z"),
                schedule_id: Some("s".into()),
                scheduled_for: Some(at("2026-03-29T01:30:00Z")),
                unique_key: None,
            },
        );
        let missed = NewOccurrence::not_fired(
            OccurrenceOutcome::Missed,
            at("2026-03-29T01:00:00Z"),
            at("2026-03-29T02:00:00Z"),
            61,
            "down \"for\" an hour\n\u{e9}\\",
        );
        for occ in [fired, missed] {
            let written = format!(
                "{}1774747800123}}",
                ledger_prefix("sched\tule", &occ).unwrap()
            );
            let read: Value = serde_json::from_str(&written).unwrap();
            let mut expected = occurrence_row("sched\tule", &occ);
            expected["recorded_at"] = serde_json::json!(1_774_747_800_123i64);
            assert_eq!(read, expected);
        }
    }

    /// A new job's spec is a JSON array of its fields without the bracket
    /// the script closes, and its state a waiting one's.
    #[test]
    fn new_jobs_travel_as_a_spec_and_a_state() {
        let template: JobTemplate =
            serde_json::from_value(serde_json::json!({"kind": "k", "priority": -3})).unwrap();
        let job = NewJob {
            id: "j1".into(),
            namespace: "default".into(),
            job: template,
            run_at: at("2026-03-29T01:30:00Z"),
            schedule_id: None,
            scheduled_for: None,
            unique_key: None,
        };
        let mut out = Vec::new();
        job_args(&job, &mut out).unwrap();
        let [id, _, queue, schedule, unique, run_at, _, spec, state] = &out[..] else {
            panic!("{out:?}")
        };
        assert_eq!(
            (id.as_str(), schedule.as_str(), unique.as_str()),
            ("j1", "", "")
        );
        let fields: Vec<String> = serde_json::from_str(&format!("{spec}]")).unwrap();
        assert!(
            fields.chunks(2).any(|f| f == ["queue", queue.as_str()]),
            "{fields:?}"
        );
        assert!(
            fields.chunks(2).any(|f| f == ["priority", "-3"]),
            "{fields:?}"
        );
        assert!(
            !fields.iter().any(|f| f == "namespace"),
            "defaults stay out: {fields:?}"
        );
        assert_eq!(state, &format!("pending,0,,{run_at},-3,,,,,----"));
        let waited = Waited::parse(state.splitn(4, ',').nth(3).unwrap()).unwrap();
        assert_eq!(
            (waited.run_at, waited.max_attempts, waited.last_error),
            (run_at.as_str(), None, None)
        );
    }

    /// A completion of a held job in the batch's queue with nothing more
    /// to say is four strings and an empty fifth; any more is packed with
    /// byte lengths, so any text fits.
    #[test]
    fn completions_pack_only_what_they_have() {
        use crate::params::{Completion, JobCompletion};
        use chime_core::model::AttemptOutcome;
        let reply = vec![
            bulk("1774747800100"),
            bulk("1774747830100"),
            bulk("j1"),
            bulk(r#"["queue","q","kind","k","created_at","1"]"#),
            bulk("running,1,t1,1774747800000,0,,,,,----"),
        ];
        let held = std::sync::Arc::new(claimed(reply, "w1", "t1").unwrap().remove(0).job);
        let done = |error: Option<&str>, held: Option<std::sync::Arc<chime_core::model::Job>>| {
            JobCompletion {
                job_id: "j1".into(),
                lease_token: "t1".into(),
                completion: Completion::Succeeded,
                outcome: AttemptOutcome::Succeeded,
                error: error.map(str::to_string),
                output: None,
                held,
            }
        };
        let batch = [done(None, Some(held.clone())), done(Some("é, x"), None)];
        let queue = completions_queue(&batch);
        assert_eq!(queue, Some("q"));
        let mut out = Vec::new();
        for c in &batch {
            completion_args(c, queue, &mut out);
        }
        assert_eq!(
            out,
            [
                "j1",
                "t1",
                "succeeded",
                "succeeded",
                "",
                "j1",
                "t1",
                "succeeded",
                "succeeded",
                "-5:\u{e9}, x-----"
            ]
        );
    }

    fn bulk(s: &str) -> Reply {
        Reply::BulkString(s.as_bytes().to_vec())
    }

    /// A claimed job reads the claim's own fields over its state's, those
    /// over its spec's, and the defaults of fields its spec leaves out.
    #[test]
    fn claimed_jobs_read_the_claim_over_the_state_over_the_spec() {
        let spec = serde_json::json!([
            "queue",
            "q",
            "kind",
            "k",
            "payload",
            "{\"say\":\"\\\"hi\\\"\"}",
            "run_at",
            "1774747700000",
            "created_at",
            "1774747700000",
            "priority",
            "7",
        ]);
        let reply = vec![
            bulk("1774747800100"),
            bulk("1774747830100"),
            bulk("j1"),
            bulk(&spec.to_string()),
            bulk("running,1,t1,1774747800000,7,5,,,,12:it,failed: x---"),
        ];
        let jobs = claimed(reply, "w1", "t1").unwrap();
        let [c] = jobs.as_slice() else {
            panic!("{jobs:?}")
        };
        let job = &c.job;
        assert_eq!(
            (job.id.as_str(), job.attempt, job.state),
            ("j1", 1, JobState::Running)
        );
        assert_eq!(job.worker.as_deref(), Some("w1"));
        assert_eq!(job.lease_expires_at, Some(ts(1_774_747_830_100).unwrap()));
        assert_eq!(c.lease_token, "t1");
        assert_eq!(
            (
                job.namespace.as_str(),
                job.job.max_attempts,
                job.job.priority
            ),
            ("default", 5, 7)
        );
        assert_eq!(job.last_error.as_deref(), Some("it,failed: x"));
        assert_eq!(job.job.payload, serde_json::json!({"say": "\"hi\""}));
        assert_eq!(job.run_at, ts(1_774_747_800_000).unwrap());
    }
}
