//! Matches every expected (schedule, instant) to the jobs in the store.

use anyhow::Result;
use chime_store::{JobsList, OccurrencesList, Store};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

#[derive(Debug, Default, Clone)]
pub struct Report {
    pub schedules: usize,
    /// (schedule, whole second) pairs inside the checked window.
    pub expected: u64,
    /// Pairs with exactly one job.
    pub matched: u64,
    /// Pairs with no job.
    pub missed: u64,
    /// Jobs beyond the first for one pair.
    pub duplicated: u64,
    /// Ledger entries that say a fire was missed or skipped.
    pub ledger_not_fired: u64,
    /// Fire instant → job written, worst case over matched pairs (ms).
    pub max_lateness_ms: i64,
    /// Succeeded jobs the receiver never saw (should be 0).
    pub undelivered: u64,
    /// Deliveries of a job beyond its first (at-least-once: allowed).
    pub redelivered: u64,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.expected > 0 && self.missed == 0 && self.duplicated == 0 && self.ledger_not_fired == 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "schedules={} expected={} matched={} missed={} duplicated={} ledger_not_fired={} max_lateness_ms={} undelivered={} redelivered={} => {}",
            self.schedules, self.expected, self.matched, self.missed, self.duplicated,
            self.ledger_not_fired, self.max_lateness_ms, self.undelivered, self.redelivered,
            if self.passed() { "PASS" } else { "FAIL" }
        )
    }
}

/// Checks every second in `[from, to]` (Unix seconds) of each schedule,
/// from its first fire after it was created.
pub async fn check(
    store: &dyn Store,
    schedule_ids: &[String],
    from: i64,
    to: i64,
    deliveries: &HashMap<String, u32>,
) -> Result<Report> {
    let mut r = Report {
        schedules: schedule_ids.len(),
        ..Report::default()
    };
    for id in schedule_ids {
        let Some(schedule) = store.schedules_get(id).await? else {
            anyhow::bail!("schedule {id} is gone");
        };
        let first = from.max(schedule.created_at.as_second() + 1);
        let jobs = store
            .jobs_list(JobsList {
                schedule_id: Some(id.clone()),
                limit: 1_000_000,
                ..Default::default()
            })
            .await?;
        let mut per_second: BTreeMap<i64, Vec<&chime_core::model::Job>> = BTreeMap::new();
        for j in &jobs {
            if let Some(at) = j.scheduled_for {
                per_second.entry(at.as_second()).or_default().push(j);
            }
        }
        for second in first..=to {
            r.expected += 1;
            match per_second.get(&second).map(Vec::as_slice) {
                None | Some([]) => r.missed += 1,
                Some([job]) => {
                    r.matched += 1;
                    if let Some(at) = job.scheduled_for {
                        let late = job.created_at.duration_since(at).as_millis() as i64;
                        r.max_lateness_ms = r.max_lateness_ms.max(late);
                    }
                }
                Some(many) => {
                    r.matched += 1;
                    r.duplicated += many.len() as u64 - 1;
                }
            }
        }
        for j in &jobs {
            let n = deliveries.get(&j.id).copied().unwrap_or(0);
            if j.state == chime_core::model::JobState::Succeeded && n == 0 {
                r.undelivered += 1;
            }
            r.redelivered += u64::from(n.saturating_sub(1));
        }
        let ledger = store
            .occurrences_list(OccurrencesList {
                schedule_id: id.clone(),
                before: None,
                limit: 1_000_000,
            })
            .await?;
        r.ledger_not_fired += ledger
            .iter()
            .filter(|o| o.outcome != chime_core::model::OccurrenceOutcome::Fired)
            .map(|o| o.count)
            .sum::<u64>();
    }
    Ok(r)
}
