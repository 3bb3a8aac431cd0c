//! The fire transaction (DESIGN §2.1, §2.5): for each schedule, check the
//! bucket lease at its epoch, compare-and-set the next fire time, record the
//! occurrences under their fire keys, make the jobs, all or nothing.

use super::jobs::{cancel_job, insert_job};
use super::rows::ms;
use super::schedules::insert_occurrence;
use super::SqliteStore;
use crate::params::*;
use crate::Result;
use chime_core::model::{OccurrenceOutcome, Overlap};
use std::collections::HashMap;

const OVERLAP_REASON: &str = "overlap: the previous job is still pending or running";

impl SqliteStore {
    pub(super) async fn fire_batch(&self, p: FireBatch) -> Result<Vec<FireResult>> {
        let now = self.now_or(p.now);
        let mut tx = self.writer.begin().await?;
        let mut leases: HashMap<(u32, u64), bool> = HashMap::new();
        let mut results = Vec::with_capacity(p.fires.len());
        for fire in p.fires {
            let key = (fire.bucket, fire.epoch);
            let held = match leases.get(&key) {
                Some(held) => *held,
                None => {
                    let held = sqlx::query_scalar::<_, i64>(include_str!("sql/bucket_check.sql"))
                        .bind(i64::from(fire.bucket))
                        .bind(&p.owner)
                        .bind(fire.epoch as i64)
                        .bind(ms(now))
                        .fetch_optional(&mut *tx)
                        .await?
                        .is_some();
                    leases.insert(key, held);
                    held
                }
            };
            if !held {
                results.push(FireResult::StaleEpoch);
                continue;
            }
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
                results.push(FireResult::Duplicate);
                continue;
            }
            let mut active: Vec<String> = if fire.overlap == Overlap::Allow {
                Vec::new()
            } else {
                sqlx::query_scalar(include_str!("sql/jobs_active_for_schedule.sql"))
                    .bind(&fire.schedule_id)
                    .fetch_all(&mut *tx)
                    .await?
            };
            let mut job_ids = Vec::new();
            let mut skipped_overlap = false;
            for mut occ in fire.occurrences {
                if occ.job.is_some() && !active.is_empty() {
                    match fire.overlap {
                        Overlap::Allow => {}
                        Overlap::Skip => {
                            occ.job = None;
                            occ.outcome = OccurrenceOutcome::Skipped;
                            occ.reason = Some(OVERLAP_REASON.to_string());
                            skipped_overlap = true;
                        }
                        Overlap::Replace => {
                            for id in active.drain(..) {
                                cancel_job(&mut tx, &id, now).await?;
                            }
                        }
                    }
                }
                let job_id = occ.job.as_ref().map(|j| j.id.clone());
                if !insert_occurrence(&mut tx, &fire.schedule_id, &occ, job_id.as_deref(), now)
                    .await?
                {
                    // This fire key was recorded before: its job exists already.
                    continue;
                }
                if let Some(job) = &occ.job {
                    insert_job(&mut tx, job, now).await?;
                    job_ids.push(job.id.clone());
                    if fire.overlap != Overlap::Allow {
                        active.push(job.id.clone());
                    }
                }
            }
            results.push(FireResult::Applied {
                job_ids,
                skipped_overlap,
            });
        }
        tx.commit().await?;
        Ok(results)
    }
}
