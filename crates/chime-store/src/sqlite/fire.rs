//! The fire transaction (DESIGN §2.1, §2.5): for each schedule, check the
//! bucket lease at its epoch, compare-and-set the next fire time and
//! version, record the occurrences under their fire keys, make the jobs;
//! all or nothing.
//!
//! Fires with overlap `allow` (the common case) are applied a batch at a
//! time, one statement per step whatever the batch size; `skip` and
//! `replace` look at each schedule's running jobs and go one by one.

use super::jobs::{cancel_job, insert_job, insert_jobs};
use super::rows::{ms, to_json};
use super::schedules::insert_occurrence;
use super::SqliteStore;
use crate::params::*;
use crate::Result;
use chime_core::model::{OccurrenceOutcome, Overlap};
use sqlx::SqliteConnection;
use std::collections::{HashMap, HashSet};

const OVERLAP_REASON: &str = "overlap: the previous job is still pending or running";

impl SqliteStore {
    pub(super) async fn fire_batch(&self, p: FireBatch) -> Result<Vec<FireResult>> {
        let now = self.now_or(p.now);
        let mut tx = self.writer.begin().await?;
        let held: HashSet<(i64, i64)> = sqlx::query_as(include_str!("sql/buckets_held.sql"))
            .bind(&p.owner)
            .bind(ms(now))
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
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
        for (i, result) in fire_allowing_overlap(&mut tx, batched, now).await? {
            results[i] = Some(result);
        }
        for (i, fire) in one_by_one {
            results[i] = Some(fire_checking_overlap(&mut tx, fire, now).await?);
        }
        tx.commit().await?;
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or(FireResult::Duplicate))
            .collect())
    }
}

async fn fire_allowing_overlap(
    tx: &mut SqliteConnection,
    fires: Vec<(usize, ScheduleFire)>,
    now: jiff::Timestamp,
) -> Result<Vec<(usize, FireResult)>> {
    if fires.is_empty() {
        return Ok(Vec::new());
    }
    let advance: Vec<serde_json::Value> = fires
        .iter()
        .map(|(_, f)| {
            serde_json::json!({
                "id": f.schedule_id, "expected": ms(f.expected_next_fire_at),
                "next": f.next_fire_at.map(ms), "version": f.expected_version as i64,
            })
        })
        .collect();
    let advanced: HashSet<String> = sqlx::query_scalar(include_str!("sql/fire_advance_batch.sql"))
        .bind(to_json(&advance)?)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
    let mut occurrences = Vec::new();
    for (_, f) in fires
        .iter()
        .filter(|(_, f)| advanced.contains(&f.schedule_id))
    {
        for occ in &f.occurrences {
            occurrences.push(serde_json::json!({
                "schedule_id": f.schedule_id, "scheduled_for": ms(occ.scheduled_for),
                "outcome": occ.outcome.as_str(), "reason": occ.reason,
                "job_id": occ.job.as_ref().map(|j| j.id.as_str()),
                "count": occ.count as i64, "last_scheduled_for": occ.last_scheduled_for.map(ms),
            }));
        }
    }
    let recorded: HashSet<(String, i64)> = if occurrences.is_empty() {
        HashSet::new()
    } else {
        sqlx::query_as(include_str!("sql/occurrences_insert_batch.sql"))
            .bind(to_json(&occurrences)?)
            .bind(ms(now))
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect()
    };
    let mut jobs = Vec::new();
    let mut made: HashMap<&str, Vec<String>> = HashMap::new();
    for (_, f) in &fires {
        for occ in &f.occurrences {
            // A fire key recorded before already has its job.
            let key = (f.schedule_id.clone(), ms(occ.scheduled_for));
            if let (Some(job), true) = (&occ.job, recorded.contains(&key)) {
                jobs.push(job);
                made.entry(f.schedule_id.as_str())
                    .or_default()
                    .push(job.id.clone());
            }
        }
    }
    insert_jobs(tx, &jobs, now).await?;
    Ok(fires
        .iter()
        .map(|(i, f)| {
            let result = if advanced.contains(&f.schedule_id) {
                FireResult::Applied {
                    job_ids: made.remove(f.schedule_id.as_str()).unwrap_or_default(),
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
    tx: &mut SqliteConnection,
    fire: ScheduleFire,
    now: jiff::Timestamp,
) -> Result<FireResult> {
    let advanced = sqlx::query(include_str!("sql/fire_advance.sql"))
        .bind(&fire.schedule_id)
        .bind(ms(fire.expected_next_fire_at))
        .bind(fire.next_fire_at.map(ms))
        .bind(fire.expected_version as i64)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if !advanced {
        return Ok(FireResult::Duplicate);
    }
    let mut active: Vec<String> =
        sqlx::query_scalar(include_str!("sql/jobs_active_for_schedule.sql"))
            .bind(&fire.schedule_id)
            .fetch_all(&mut *tx)
            .await?;
    let mut job_ids = Vec::new();
    let mut skipped_overlap = false;
    for mut occ in fire.occurrences {
        if occ.job.is_some() && !active.is_empty() {
            if fire.overlap == Overlap::Skip {
                occ.job = None;
                occ.outcome = OccurrenceOutcome::Skipped;
                occ.reason = Some(OVERLAP_REASON.to_string());
                skipped_overlap = true;
            } else {
                for id in active.drain(..) {
                    cancel_job(tx, &id, now).await?;
                }
            }
        }
        let job_id = occ.job.as_ref().map(|j| j.id.clone());
        if !insert_occurrence(tx, &fire.schedule_id, &occ, job_id.as_deref(), now).await? {
            continue;
        }
        if let Some(job) = &occ.job {
            insert_job(tx, job, now).await?;
            job_ids.push(job.id.clone());
            active.push(job.id.clone());
        }
    }
    Ok(FireResult::Applied {
        job_ids,
        skipped_overlap,
    })
}
