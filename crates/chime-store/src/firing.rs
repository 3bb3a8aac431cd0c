//! The fire transaction's logic, shared by the SQL backends (DESIGN §2.1,
//! §2.5): for each schedule, check the bucket lease at its epoch,
//! compare-and-set the next fire time and version, record the occurrences
//! under their fire keys, make the jobs; all inside the caller's
//! transaction. A backend supplies the statements ([`FireTx`]).
//!
//! Fires with overlap `allow` (the common case) are applied a batch at a
//! time, one statement per step whatever the batch size; `skip` and
//! `replace` look at each schedule's running jobs and go one by one.

use crate::params::*;
use crate::rows::ms;
use crate::Result;
use chime_core::model::{OccurrenceOutcome, Overlap};
use jiff::Timestamp;
use serde_json::{json, Value};
use std::collections::HashSet;

const OVERLAP_REASON: &str = "overlap: the previous job is still pending or running";

/// The statements of a fire, run inside one open transaction.
pub(crate) trait FireTx {
    /// `(bucket, epoch)` leases `owner` holds at `now`, locked against a
    /// change of owner until the transaction ends.
    async fn held_leases(&mut self, owner: &str, now: Timestamp) -> Result<HashSet<(i64, i64)>>;
    /// Compare-and-set of many schedules' next fires ([`advance_rows`]);
    /// returns the ids that moved.
    async fn advance(&mut self, rows: &[Value]) -> Result<HashSet<String>>;
    /// Ledger entries ([`occurrence_row`]); returns the fire keys newly recorded.
    async fn record(&mut self, rows: &[Value], now: Timestamp) -> Result<HashSet<(String, i64)>>;
    async fn insert_jobs(&mut self, jobs: &[&NewJob], now: Timestamp) -> Result<()>;
    /// Pending or running jobs of a schedule.
    async fn active_jobs(&mut self, schedule_id: &str) -> Result<Vec<String>>;
    async fn cancel_job(&mut self, id: &str, now: Timestamp) -> Result<()>;
}

pub(crate) async fn apply(
    tx: &mut impl FireTx,
    p: FireBatch,
    now: Timestamp,
) -> Result<Vec<FireResult>> {
    let held = tx.held_leases(&p.owner, now).await?;
    let mut results: Vec<Option<FireResult>> = vec![None; p.fires.len()];
    let mut batched = Vec::new();
    let mut one_by_one = Vec::new();
    for (i, fire) in p.fires.into_iter().enumerate() {
        if !held.contains(&(i64::from(fire.bucket), fire.epoch as i64)) {
            results[i] = Some(FireResult::StaleEpoch);
        } else if fire.overlap == Overlap::Allow {
            batched.push((i, fire));
        } else {
            one_by_one.push((i, fire));
        }
    }
    for (i, result) in fire_allowing_overlap(tx, batched, now).await? {
        results[i] = Some(result);
    }
    for (i, fire) in one_by_one {
        results[i] = Some(fire_checking_overlap(tx, fire, now).await?);
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or(FireResult::Duplicate))
        .collect())
}

/// `{id, expected, next, version}` for the compare-and-set.
pub(crate) fn advance_rows<'a>(fires: impl Iterator<Item = &'a ScheduleFire>) -> Vec<Value> {
    fires
        .map(|f| {
            json!({
                "id": f.schedule_id, "expected": ms(f.expected_next_fire_at),
                "next": f.next_fire_at.map(ms), "version": f.expected_version as i64,
            })
        })
        .collect()
}

/// What an occurrence becomes when overlap `skip` holds its job back.
pub(crate) fn skip_for_overlap(occ: &mut NewOccurrence) {
    occ.job = None;
    occ.outcome = OccurrenceOutcome::Skipped;
    occ.reason = Some(OVERLAP_REASON.to_string());
}

/// `{schedule_id, scheduled_for, outcome, reason, job_id, count, last_scheduled_for}`.
pub(crate) fn occurrence_row(schedule_id: &str, occ: &NewOccurrence) -> Value {
    json!({
        "schedule_id": schedule_id, "scheduled_for": ms(occ.scheduled_for),
        "outcome": occ.outcome.as_str(), "reason": occ.reason,
        "job_id": occ.job.as_ref().map(|j| j.id.as_str()),
        "count": occ.count as i64, "last_scheduled_for": occ.last_scheduled_for.map(ms),
    })
}

async fn fire_allowing_overlap(
    tx: &mut impl FireTx,
    fires: Vec<(usize, ScheduleFire)>,
    now: Timestamp,
) -> Result<Vec<(usize, FireResult)>> {
    if fires.is_empty() {
        return Ok(Vec::new());
    }
    let mut advanced = tx
        .advance(&advance_rows(fires.iter().map(|(_, f)| f)))
        .await?;
    // A schedule named twice in one batch moves once: its first fire
    // applies, the others are duplicates (DESIGN §2.1).
    let applies: Vec<bool> = fires
        .iter()
        .map(|(_, f)| advanced.remove(&f.schedule_id))
        .collect();
    let occurrences: Vec<Value> = fires
        .iter()
        .zip(&applies)
        .filter(|(_, applies)| **applies)
        .flat_map(|((_, f), _)| {
            f.occurrences
                .iter()
                .map(|occ| occurrence_row(&f.schedule_id, occ))
        })
        .collect();
    let mut recorded = if occurrences.is_empty() {
        HashSet::new()
    } else {
        tx.record(&occurrences, now).await?
    };
    let mut jobs = Vec::new();
    let mut made: Vec<Vec<String>> = vec![Vec::new(); fires.len()];
    for (((_, f), applies), made) in fires.iter().zip(&applies).zip(&mut made) {
        if !applies {
            continue;
        }
        for occ in &f.occurrences {
            // A fire key recorded before already has its job; one recorded
            // now makes the job of the occurrence that recorded it.
            let key = (f.schedule_id.clone(), ms(occ.scheduled_for));
            if let (Some(job), true) = (&occ.job, recorded.remove(&key)) {
                jobs.push(job);
                made.push(job.id.clone());
            }
        }
    }
    if !jobs.is_empty() {
        tx.insert_jobs(&jobs, now).await?;
    }
    Ok(fires
        .iter()
        .zip(applies)
        .zip(made)
        .map(|(((i, _), applies), job_ids)| {
            let result = if applies {
                FireResult::Applied {
                    job_ids,
                    skipped_overlap: false,
                }
            } else {
                FireResult::Duplicate
            };
            (*i, result)
        })
        .collect())
}

async fn fire_checking_overlap(
    tx: &mut impl FireTx,
    fire: ScheduleFire,
    now: Timestamp,
) -> Result<FireResult> {
    if tx
        .advance(&advance_rows(std::iter::once(&fire)))
        .await?
        .is_empty()
    {
        return Ok(FireResult::Duplicate);
    }
    let mut active = tx.active_jobs(&fire.schedule_id).await?;
    let mut job_ids = Vec::new();
    let mut skipped_overlap = false;
    for mut occ in fire.occurrences {
        if occ.job.is_some() && !active.is_empty() {
            if fire.overlap == Overlap::Skip {
                skip_for_overlap(&mut occ);
                skipped_overlap = true;
            } else {
                for id in active.drain(..) {
                    tx.cancel_job(&id, now).await?;
                }
            }
        }
        let recorded = tx
            .record(&[occurrence_row(&fire.schedule_id, &occ)], now)
            .await?;
        if recorded.is_empty() {
            continue;
        }
        if let Some(job) = &occ.job {
            tx.insert_jobs(&[job], now).await?;
            job_ids.push(job.id.clone());
            active.push(job.id.clone());
        }
    }
    Ok(FireResult::Applied {
        job_ids,
        skipped_overlap,
    })
}
