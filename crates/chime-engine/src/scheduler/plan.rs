//! What a due schedule's fire turns into, as a pure function of the
//! schedule, its fire times and `now`: the misfire policy (DESIGN §2.2),
//! jitter, and the next fire time. No I/O, so every policy is tested here.

use chime_core::model::{new_id, MisfirePolicy, OccurrenceOutcome, Schedule};
use chime_core::schedule::jitter;
use chime_core::ScheduleTimes;
use chime_store::{NewJob, NewOccurrence};
use jiff::{SignedDuration, Timestamp};

/// Iterating a long downtime of a frequent schedule stops counting here.
const MAX_COUNTED: u64 = 1_000_000;

#[derive(Debug, Clone, Copy)]
pub struct PlanConfig {
    /// A fire processed later than this after its instant counts as missed
    /// (no instance was there to fire it) and goes through the misfire policy.
    pub misfire_threshold: SignedDuration,
}

impl Default for PlanConfig {
    fn default() -> Self {
        PlanConfig {
            // Twice the bucket lease TTL: fires delayed by a failover are
            // late, not missed.
            misfire_threshold: SignedDuration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub occurrences: Vec<NewOccurrence>,
    pub next_fire_at: Option<Timestamp>,
}

/// Plans every fire of `schedule` from its `next_fire_at` up to `now`.
pub fn plan(schedule: &Schedule, times: &ScheduleTimes, now: Timestamp, cfg: &PlanConfig) -> Plan {
    let Some(first) = schedule.next_fire_at else {
        return Plan {
            occurrences: Vec::new(),
            next_fire_at: None,
        };
    };
    let late_before = now.checked_sub(cfg.misfire_threshold).unwrap_or(now);
    let window_start = now
        .checked_sub(SignedDuration::from_millis(
            schedule.spec.misfire.catchup_window_ms as i64,
        ))
        .unwrap_or(Timestamp::MIN);

    let mut on_time = Vec::new();
    let mut missed = Vec::new(); // within the catch-up window, oldest first
    let mut too_old = Run::default();
    let mut counted = 0u64;
    let mut at = Some(first);
    while let Some(t) = at.filter(|t| *t <= now) {
        counted += 1;
        if t >= late_before {
            on_time.push(t);
        } else if t >= window_start {
            missed.push(t);
        } else {
            too_old.add(t);
        }
        if counted >= MAX_COUNTED {
            // Jump to the present: the rest of the run is counted as one.
            too_old.add(t);
            at = times.next_after(
                now.checked_sub(SignedDuration::from_millis(1))
                    .unwrap_or(now),
            );
            if let Some(t) = at.filter(|t| *t <= now) {
                on_time.push(t);
            }
            break;
        }
        at = times.next_after(t);
    }
    let next_fire_at = times.next_after(now);

    let mut occurrences = Vec::new();
    if let Some(run) = too_old.finish() {
        occurrences.push(NewOccurrence::not_fired(
            OccurrenceOutcome::Missed,
            run.0,
            run.1,
            run.2,
            "missed: older than catchup_window",
        ));
    }
    let misfire = schedule.spec.misfire;
    let (catch_up, not_caught): (Vec<Timestamp>, Vec<Timestamp>) = match misfire.policy {
        MisfirePolicy::Skip => (Vec::new(), missed),
        MisfirePolicy::FireOnce => {
            let latest = missed.pop();
            (latest.into_iter().collect(), missed)
        }
        MisfirePolicy::FireAll => {
            let keep = missed.len().saturating_sub(misfire.catchup_limit as usize);
            let rest = missed.split_off(keep);
            (rest, missed)
        }
    };
    if let (Some(first), Some(last)) = (not_caught.first(), not_caught.last()) {
        let reason = match misfire.policy {
            MisfirePolicy::Skip => "missed: misfire policy skip",
            MisfirePolicy::FireOnce => "missed: coalesced into one catch-up job (fire_once)",
            MisfirePolicy::FireAll => "missed: beyond catchup_limit (fire_all)",
        };
        occurrences.push(NewOccurrence::not_fired(
            OccurrenceOutcome::Missed,
            *first,
            *last,
            not_caught.len() as u64,
            reason,
        ));
    }
    for t in catch_up.into_iter().chain(on_time) {
        occurrences.push(NewOccurrence::fired(t, job(schedule, t)));
    }
    Plan {
        occurrences,
        next_fire_at,
    }
}

/// The job a fire at `at` makes: the template, run at `at` plus jitter.
pub fn job(schedule: &Schedule, at: Timestamp) -> NewJob {
    let delay = jitter::offset(
        &schedule.id,
        at,
        SignedDuration::from_millis(schedule.spec.jitter_ms as i64),
    );
    NewJob {
        id: new_id(),
        namespace: schedule.spec.namespace.clone(),
        job: schedule.spec.job.clone(),
        run_at: at.checked_add(delay).unwrap_or(at),
        schedule_id: Some(schedule.id.clone()),
        scheduled_for: Some(at),
        unique_key: None,
    }
}

/// First, last and count of a run of instants.
#[derive(Default)]
struct Run(Option<(Timestamp, Timestamp, u64)>);

impl Run {
    fn add(&mut self, t: Timestamp) {
        self.0 = Some(match self.0 {
            None => (t, t, 1),
            Some((first, _, n)) => (first, t, n + 1),
        });
    }

    fn finish(self) -> Option<(Timestamp, Timestamp, u64)> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chime_core::model::{Misfire, ScheduleSpec};
    use chime_core::Zone;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn schedule(json: serde_json::Value, next: &str) -> (Schedule, ScheduleTimes) {
        let spec: ScheduleSpec = serde_json::from_value(json).unwrap();
        let times = spec.times(&Zone::utc()).unwrap();
        let s = Schedule {
            id: "s1".into(),
            spec,
            version: 1,
            next_fire_at: Some(ts(next)),
            created_at: ts("2026-01-01T00:00:00Z"),
            updated_at: ts("2026-01-01T00:00:00Z"),
        };
        (s, times)
    }

    /// Plans a schedule whose next fire is `next` as of `now`.
    fn plan_at(json: serde_json::Value, next: &str, now: &str) -> Plan {
        let (s, times) = schedule(json, next);
        plan(&s, &times, ts(now), &PlanConfig::default())
    }

    fn summary(p: &Plan) -> Vec<String> {
        p.occurrences
            .iter()
            .map(|o| {
                format!(
                    "{} {} x{}{}",
                    o.outcome.as_str(),
                    o.scheduled_for,
                    o.count,
                    o.last_scheduled_for
                        .map(|l| format!("..{l}"))
                        .unwrap_or_default()
                )
            })
            .collect()
    }

    fn hourly(misfire: Misfire) -> serde_json::Value {
        serde_json::json!({"name": "h", "cron": "0 * * * *", "job": {"kind": "k"}, "misfire": {
            "policy": misfire.policy, "catchup_limit": misfire.catchup_limit, "catchup_window_ms": misfire.catchup_window_ms}})
    }

    #[test]
    fn on_time_fire_makes_one_job() {
        let p = plan_at(
            hourly(Misfire::default()),
            "2026-01-01T10:00:00Z",
            "2026-01-01T10:00:00.003Z",
        );
        assert_eq!(summary(&p), vec!["fired 2026-01-01T10:00:00Z x1"]);
        assert_eq!(p.next_fire_at, Some(ts("2026-01-01T11:00:00Z")));
        let job = p.occurrences[0].job.as_ref().unwrap();
        assert_eq!(
            (job.scheduled_for, job.run_at),
            (Some(ts("2026-01-01T10:00:00Z")), ts("2026-01-01T10:00:00Z"))
        );
    }

    #[test]
    fn fire_once_catches_up_with_the_latest_missed_fire() {
        // Down from 10:00 to 15:30: fires at 10..15 were missed.
        let p = plan_at(
            hourly(Misfire::default()),
            "2026-01-01T10:00:00Z",
            "2026-01-01T15:30:00Z",
        );
        assert_eq!(
            summary(&p),
            vec![
                "missed 2026-01-01T10:00:00Z x5..2026-01-01T14:00:00Z",
                "fired 2026-01-01T15:00:00Z x1",
            ]
        );
        assert_eq!(p.next_fire_at, Some(ts("2026-01-01T16:00:00Z")));
    }

    #[test]
    fn fire_all_respects_catchup_limit() {
        let m = Misfire {
            policy: MisfirePolicy::FireAll,
            catchup_limit: 2,
            ..Misfire::default()
        };
        let p = plan_at(hourly(m), "2026-01-01T10:00:00Z", "2026-01-01T15:30:00Z");
        assert_eq!(
            summary(&p),
            vec![
                "missed 2026-01-01T10:00:00Z x4..2026-01-01T13:00:00Z",
                "fired 2026-01-01T14:00:00Z x1",
                "fired 2026-01-01T15:00:00Z x1",
            ]
        );
    }

    #[test]
    fn skip_fires_nothing_but_records_the_run() {
        let m = Misfire {
            policy: MisfirePolicy::Skip,
            ..Misfire::default()
        };
        let p = plan_at(hourly(m), "2026-01-01T10:00:00Z", "2026-01-01T12:30:00Z");
        assert_eq!(
            summary(&p),
            vec!["missed 2026-01-01T10:00:00Z x3..2026-01-01T12:00:00Z"]
        );
        assert!(p.occurrences.iter().all(|o| o.job.is_none()));
    }

    #[test]
    fn fires_older_than_the_window_are_skipped_and_counted() {
        let m = Misfire {
            policy: MisfirePolicy::FireAll,
            catchup_limit: 100,
            catchup_window_ms: 2 * 3_600_000,
        };
        let p = plan_at(hourly(m), "2026-01-01T10:00:00Z", "2026-01-01T15:30:00Z");
        assert_eq!(
            summary(&p),
            vec![
                "missed 2026-01-01T10:00:00Z x4..2026-01-01T13:00:00Z",
                "fired 2026-01-01T14:00:00Z x1",
                "fired 2026-01-01T15:00:00Z x1",
            ]
        );
        assert!(p.occurrences[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("catchup_window"));
    }

    #[test]
    fn a_little_late_is_not_missed() {
        let m = Misfire {
            policy: MisfirePolicy::Skip,
            ..Misfire::default()
        };
        let p = plan_at(hourly(m), "2026-01-01T10:00:00Z", "2026-01-01T10:00:04Z");
        assert_eq!(summary(&p), vec!["fired 2026-01-01T10:00:00Z x1"]);
    }

    #[test]
    fn jitter_delays_the_job_not_the_fire_key() {
        let (s, times) = schedule(
            serde_json::json!({"name": "j", "every": "1m", "jitter_ms": 30000, "job": {}}),
            "2026-01-01T10:00:00Z",
        );
        let p = plan(
            &s,
            &times,
            ts("2026-01-01T10:00:00Z"),
            &PlanConfig::default(),
        );
        let job = p.occurrences[0].job.as_ref().unwrap();
        assert_eq!(job.scheduled_for, Some(ts("2026-01-01T10:00:00Z")));
        let delay = job.run_at.duration_since(ts("2026-01-01T10:00:00Z"));
        assert!(
            delay >= SignedDuration::ZERO && delay < SignedDuration::from_secs(30),
            "{delay:?}"
        );
    }

    #[test]
    fn one_shot_has_no_next_fire() {
        let (s, times) = schedule(
            serde_json::json!({"name": "once", "at": "2026-01-01T10:00:00Z", "job": {}}),
            "2026-01-01T10:00:00Z",
        );
        let p = plan(
            &s,
            &times,
            ts("2026-01-01T10:00:00.010Z"),
            &PlanConfig::default(),
        );
        assert_eq!(p.occurrences.len(), 1);
        assert_eq!(p.next_fire_at, None);
    }
}
