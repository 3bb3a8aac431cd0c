//! Commands on schedules and jobs, shared by the HTTP API, the CLI and the
//! Rust library: validation, next-fire computation, and waking the
//! scheduler and workers. The store stays a plain data seam.

use crate::events::Events;
use chime_core::model::{
    new_id, schedule::bucket_of, FieldError, Job, JobSpec, OccurrenceOutcome, Schedule,
    ScheduleSpec, Target,
};
use chime_core::time::Clock;
use chime_core::Zone;
use chime_store::{NewJob, NewOccurrence, ScheduleCreate, ScheduleUpdate, Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct Service {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub events: Events,
    pub buckets: u32,
    pub default_zone: Zone,
    pub allow_commands: bool,
    /// SMTP is configured: schedules may ask for failure emails.
    pub email: bool,
}

/// Fires skipped while paused are counted up to this many.
const MAX_COUNTED_PAUSED: u64 = 100_000;

impl Service {
    fn check_on_failure(&self, spec: &ScheduleSpec) -> Result<(), FieldError> {
        match &spec.on_failure {
            Some(o) if !o.email.is_empty() && !self.email => Err(FieldError::new(
                "on_failure.email",
                "this server has no SMTP settings ([smtp] in its config)",
            )),
            _ => Ok(()),
        }
    }

    fn check_target(&self, target: &Option<Target>, field: &str) -> Result<(), FieldError> {
        if matches!(target, Some(Target::Command(_))) && !self.allow_commands {
            return Err(FieldError::new(
                format!("{field}.target.command"),
                "command targets are disabled on this server; enable them in its config",
            ));
        }
        Ok(())
    }

    pub async fn schedule_create(&self, spec: ScheduleSpec) -> Result<Schedule, ServiceError> {
        self.schedule_create_as(new_id(), spec).await
    }

    /// Creates a schedule under a chosen id (the schedules file's `file:KEY`).
    pub async fn schedule_create_as(
        &self,
        id: String,
        spec: ScheduleSpec,
    ) -> Result<Schedule, ServiceError> {
        let times = spec.times(&self.default_zone)?;
        self.check_target(&spec.job.target, "job")?;
        self.check_on_failure(&spec)?;
        let now = self.clock.now();
        let schedule = self
            .store
            .schedules_create(ScheduleCreate {
                bucket: bucket_of(&id, self.buckets),
                id,
                next_fire_at: times.next_after(now),
                spec,
                now: None,
            })
            .await?;
        self.events.schedule_changed(&schedule.id);
        Ok(schedule)
    }

    /// Replaces a schedule's definition. The next fire is computed afresh
    /// from now; `expected_version` guards against lost updates.
    pub async fn schedule_replace(
        &self,
        id: &str,
        expected_version: Option<u64>,
        spec: ScheduleSpec,
    ) -> Result<Schedule, ServiceError> {
        let times = spec.times(&self.default_zone)?;
        self.check_target(&spec.job.target, "job")?;
        self.check_on_failure(&spec)?;
        let current = self.get(id).await?;
        let next_fire_at = if spec.paused {
            current.next_fire_at
        } else {
            times.next_after(self.clock.now())
        };
        let schedule = self
            .store
            .schedules_update(ScheduleUpdate {
                id: id.to_string(),
                expected_version,
                spec,
                next_fire_at,
                occurrences: vec![],
                now: None,
            })
            .await?;
        self.events.schedule_changed(&schedule.id);
        Ok(schedule)
    }

    pub async fn schedule_pause(&self, id: &str) -> Result<Schedule, ServiceError> {
        let current = self.get(id).await?;
        if current.spec.paused {
            return Ok(current);
        }
        let next = current.next_fire_at;
        self.save_paused(current, true, next, Vec::new()).await
    }

    /// Resumes from now: fires due while paused are not caught up; the
    /// ledger records them as one skipped run.
    pub async fn schedule_resume(&self, id: &str) -> Result<Schedule, ServiceError> {
        let current = self.get(id).await?;
        if !current.spec.paused {
            return Ok(current);
        }
        let times = current.spec.times(&self.default_zone)?;
        let now = self.clock.now();
        let mut occurrences = Vec::new();
        if let Some(first) = current.next_fire_at.filter(|t| *t <= now) {
            let mut last = first;
            let mut count = 1u64;
            for t in times
                .fires_between(first, now)
                .take(MAX_COUNTED_PAUSED as usize)
            {
                last = t;
                count += 1;
            }
            occurrences.push(NewOccurrence::not_fired(
                OccurrenceOutcome::Skipped,
                first,
                last,
                count,
                "skipped: schedule was paused",
            ));
        }
        let skipped: u64 = occurrences.iter().map(|o| o.count).sum();
        let resumed = self
            .save_paused(current, false, times.next_after(now), occurrences)
            .await?;
        self.events.metrics.skipped("paused", skipped);
        Ok(resumed)
    }

    /// Writes a pause or resume, conditional on the version read.
    async fn save_paused(
        &self,
        current: Schedule,
        paused: bool,
        next_fire_at: Option<Timestamp>,
        occurrences: Vec<NewOccurrence>,
    ) -> Result<Schedule, ServiceError> {
        let mut spec = current.spec;
        spec.paused = paused;
        let schedule = self
            .store
            .schedules_update(ScheduleUpdate {
                id: current.id,
                expected_version: Some(current.version),
                spec,
                next_fire_at,
                occurrences,
                now: None,
            })
            .await?;
        self.events.schedule_changed(&schedule.id);
        Ok(schedule)
    }

    /// Runs the schedule's job now, outside its fire times (the fire key is
    /// the job id: no scheduled instant is consumed).
    pub async fn schedule_trigger(&self, id: &str) -> Result<Job, ServiceError> {
        let current = self.get(id).await?;
        let job = NewJob {
            id: new_id(),
            namespace: current.spec.namespace.clone(),
            job: current.spec.job.clone(),
            run_at: self.clock.now(),
            schedule_id: Some(current.id.clone()),
            scheduled_for: None,
            unique_key: None,
        };
        self.insert(job).await
    }

    pub async fn schedule_delete(&self, id: &str) -> Result<(), ServiceError> {
        if !self.store.schedules_delete(id).await? {
            return Err(StoreError::NotFound(format!("schedule {id}")).into());
        }
        self.events.schedule_changed(id);
        Ok(())
    }

    pub async fn job_enqueue(&self, spec: JobSpec) -> Result<(Job, bool), ServiceError> {
        spec.job.validate()?;
        chime_core::model::validate::name("namespace", &spec.namespace)?;
        self.check_target(&spec.job.target, "job")?;
        if spec.run_at.is_some() && spec.delay_ms.is_some() {
            return Err(FieldError::new("delay_ms", "give run_at or delay_ms, not both").into());
        }
        if let Some(key) = &spec.unique_key {
            if key.is_empty() || key.len() > 256 {
                return Err(FieldError::new("unique_key", "must be 1 to 256 characters").into());
            }
        }
        let now = self.clock.now();
        let run_at = match (spec.run_at, spec.delay_ms) {
            (Some(at), _) => at,
            (None, Some(ms)) => {
                chime_core::model::validate::range("delay_ms", ms, 0, 366 * 86_400_000)?;
                now + SignedDuration::from_millis(ms as i64)
            }
            (None, None) => now,
        };
        let job = NewJob {
            id: new_id(),
            namespace: spec.namespace,
            job: spec.job,
            run_at,
            schedule_id: None,
            scheduled_for: None,
            unique_key: spec.unique_key,
        };
        let enqueued = self.store.jobs_enqueue(vec![job]).await?;
        let Some(first) = enqueued.into_iter().next() else {
            return Err(StoreError::InvalidState("enqueue returned nothing".into()).into());
        };
        self.events.jobs_ready();
        let job = self
            .store
            .jobs_get(&first.id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("job {}", first.id)))?;
        Ok((job, first.duplicate))
    }

    async fn insert(&self, job: NewJob) -> Result<Job, ServiceError> {
        let id = job.id.clone();
        self.store.jobs_enqueue(vec![job]).await?;
        self.events.jobs_ready();
        Ok(self
            .store
            .jobs_get(&id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("job {id}")))?)
    }

    async fn get(&self, id: &str) -> Result<Schedule, ServiceError> {
        Ok(self
            .store
            .schedules_get(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("schedule {id}")))?)
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
