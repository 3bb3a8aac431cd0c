//! Schedules declared in a file under version control. Each one lives at
//! the id `file:KEY`, which API-created schedules (UUIDs) never take, so
//! the two kinds never overwrite each other. Applying is idempotent and
//! safe to run on every instance at once: creation by a fixed id,
//! changes by compare-and-set on the version; whoever loses a race reads
//! again and finds the work done. One id per key means one copy per key,
//! so no fire is doubled.

use crate::service::{Service, ServiceError};
use chime_core::model::{Schedule, ScheduleSpec};
use chime_store::{ScheduleList, StoreError};

pub const ID_PREFIX: &str = "file:";

pub fn id_of(key: &str) -> String {
    format!("{ID_PREFIX}{key}")
}

pub fn is_declared(id: &str) -> bool {
    id.starts_with(ID_PREFIX)
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    pub removed: Vec<String>,
}

/// How often one key is retried when other instances keep winning races.
const ATTEMPTS: usize = 5;

/// Makes the stored `file:` schedules match `declared` exactly.
pub async fn apply(
    service: &Service,
    declared: &[(String, ScheduleSpec)],
) -> Result<Applied, ServiceError> {
    for (key, spec) in declared {
        chime_core::model::validate::name("key", key)?;
        spec.times(&service.default_zone)
            .map_err(|e| e.within(&format!("schedules.{key}")))?;
    }
    let mut applied = Applied::default();
    for (key, spec) in declared {
        let id = id_of(key);
        let outcome = converge(service, &id, spec).await?;
        match outcome {
            Outcome::Created => applied.created.push(id),
            Outcome::Updated => applied.updated.push(id),
            Outcome::Unchanged => applied.unchanged.push(id),
        }
    }
    for schedule in declared_in_store(service).await? {
        let key = &schedule.id[ID_PREFIX.len()..];
        if declared.iter().all(|(k, _)| k != key) {
            match service.schedule_delete(&schedule.id).await {
                Ok(()) => applied.removed.push(schedule.id),
                // Another instance removed it first.
                Err(ServiceError::Store(StoreError::NotFound(_))) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(applied)
}

enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Pausing is an operator's action on a running schedule, not part of the
/// definition: a file's `paused` applies when it creates the schedule.
fn same_definition(stored: &ScheduleSpec, declared: &ScheduleSpec) -> bool {
    let mut d = declared.clone();
    d.paused = stored.paused;
    *stored == d
}

async fn converge(
    service: &Service,
    id: &str,
    spec: &ScheduleSpec,
) -> Result<Outcome, ServiceError> {
    let mut last_err = None;
    for _ in 0..ATTEMPTS {
        match service.store.schedules_get(id).await? {
            None => match service
                .schedule_create_as(id.to_string(), spec.clone())
                .await
            {
                Ok(_) => return Ok(Outcome::Created),
                // Created meanwhile by another instance: compare on the next pass.
                Err(e) => last_err = Some(e),
            },
            Some(current) if same_definition(&current.spec, spec) => return Ok(Outcome::Unchanged),
            Some(current) => {
                let mut next = spec.clone();
                next.paused = current.spec.paused;
                match service
                    .schedule_replace(id, Some(current.version), next)
                    .await
                {
                    Ok(_) => return Ok(Outcome::Updated),
                    Err(e @ ServiceError::Store(StoreError::Conflict { .. })) => last_err = Some(e),
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Err(last_err.unwrap_or_else(|| {
        StoreError::InvalidState(format!("{id}: could not apply after {ATTEMPTS} attempts")).into()
    }))
}

async fn declared_in_store(service: &Service) -> Result<Vec<Schedule>, ServiceError> {
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let page = service
            .store
            .schedules_list(ScheduleList {
                namespace: None,
                search: None,
                after_id: after.clone(),
                limit: 500,
            })
            .await?;
        let last = page.last().map(|s| s.id.clone());
        let full = page.len() == 500;
        found.extend(page.into_iter().filter(|s| is_declared(&s.id)));
        match last {
            Some(id) if full => after = Some(id),
            _ => return Ok(found),
        }
    }
}
