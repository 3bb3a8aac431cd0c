//! The scheduler: turns due fires of the schedules in this instance's
//! buckets into jobs, at their instant.
//!
//! Guarantee (DESIGN §2.1, §2.5): each fire makes at most one job, because
//! the store applies a fire only under this instance's current bucket lease
//! and epoch, only if the schedule's next fire and version are still what
//! was read, and only once per fire key. A crash between reading and firing
//! loses nothing: the schedule's next fire has not moved, so the next owner
//! fires it (as a misfire if it is late by then, DESIGN §2.2).
//!
//! Not guaranteed: a fire lands within milliseconds only while this
//! instance holds the bucket and the store answers in time; a fire
//! processed late is counted as late (or missed), never silently dropped.
//!
//! Shape: fires due within a short look-ahead are loaded into an in-memory
//! min-heap; the loop sleeps to the earliest instant and fires every due
//! schedule in one batch. After a fire, the schedule's next instant is known
//! locally, so it goes straight back into the heap without a reload. A
//! schedule created, edited or deleted (here or, announced by the store, on
//! another instance) is read alone; everything is read again only
//! periodically, when buckets move, or when changes may have been missed.

mod assign;
mod leases;
pub mod plan;

use crate::events::Events;
use crate::notify::Missed;
use chime_core::model::schedule::bucket_of;
use chime_core::model::{OccurrenceOutcome, Schedule};
use chime_core::time::Clock;
use chime_core::{ScheduleTimes, Zone};
use chime_store::{FireBatch, FireResult, ScheduleChanges, ScheduleFire, SchedulesDue, Store};
use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
pub use leases::Leases;
use plan::PlanConfig;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// The most a fire is written ahead of its instant when writing a second's
/// fires is slow: a pause or edit made this close to a fire misses it.
pub const MAX_FIRE_AHEAD: SignedDuration = SignedDuration::from_secs(1);

/// Changed schedules read at once: enough to hide round trips, few enough
/// not to crowd out the store's other callers.
const READS_AT_ONCE: usize = 16;

/// The lead after a burst that took `took` to write, from the current
/// one: twice `took`, between `floor` and [`MAX_FIRE_AHEAD`], reached at
/// once when larger and a quarter of the way when smaller.
fn next_ahead(
    current: SignedDuration,
    took: SignedDuration,
    floor: SignedDuration,
) -> SignedDuration {
    let target = took
        .checked_mul(2)
        .unwrap_or(MAX_FIRE_AHEAD)
        .clamp(floor, MAX_FIRE_AHEAD.max(floor));
    if target >= current {
        target
    } else {
        current - (current - target).checked_div(4).unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    pub instance_id: String,
    /// Schedules are spread over this many buckets (DESIGN §4).
    pub buckets: u32,
    pub lease_ttl: SignedDuration,
    pub renew_every: SignedDuration,
    /// Fires due up to this long after the next reload are held in memory.
    pub lookahead: SignedDuration,
    /// A full reload of due schedules at least this often, as a safety net
    /// for changes no notification announced.
    pub reload_every: SignedDuration,
    pub batch_max: usize,
    /// Fires are written this long before their instant (their fire key
    /// and their jobs' `run_at` stay the instant), so that at the instant
    /// nothing is left to write and prefetching workers start the job on
    /// time; longer, up to [`MAX_FIRE_AHEAD`], while a burst of fires takes
    /// longer to write. A pause or an overlap check made within this window
    /// before a fire does not affect it.
    pub fire_ahead: SignedDuration,
    pub plan: PlanConfig,
    pub default_zone: Zone,
}

impl SchedulerConfig {
    pub fn new(instance_id: &str) -> SchedulerConfig {
        SchedulerConfig {
            instance_id: instance_id.to_string(),
            buckets: 256,
            lease_ttl: SignedDuration::from_secs(5),
            renew_every: SignedDuration::from_secs(1),
            lookahead: SignedDuration::from_secs(2),
            reload_every: SignedDuration::from_secs(5),
            // Small batches commit early, so workers start the first jobs of
            // a busy second while later ones are still being written.
            batch_max: 100,
            fire_ahead: SignedDuration::from_millis(200),
            plan: PlanConfig::default(),
            default_zone: Zone::utc(),
        }
    }
}

pub struct Scheduler {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    cfg: SchedulerConfig,
    events: Events,
    /// Schedules changed since the last pass, read alone.
    changes: Arc<ScheduleChanges>,
    leases: Leases,
    /// Min-heap of due fires; entries whose schedule moved on are stale.
    heap: BinaryHeap<Reverse<Due>>,
    loaded: HashMap<String, Loaded>,
    next_load: Timestamp,
    /// How long before its instant a fire is written: `fire_ahead`, more
    /// while writing a burst of fires takes longer (see `adapt_ahead`).
    ahead: SignedDuration,
}

struct Loaded {
    schedule: Schedule,
    times: ScheduleTimes,
}

/// A fire waiting in the heap. Fires of one instant come out grouped by
/// bucket, so a batch spans few buckets and the store checks few leases
/// (on Redis a lease read was most of a fire's overhead besides its writes).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    at: Timestamp,
    bucket: u32,
    id: String,
}

impl Scheduler {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        cfg: SchedulerConfig,
        events: Events,
    ) -> Scheduler {
        let leases = Leases::new(
            cfg.instance_id.clone(),
            cfg.buckets,
            cfg.lease_ttl,
            cfg.renew_every,
            events.metrics.clone(),
        );
        Scheduler {
            store,
            clock,
            ahead: cfg.fire_ahead,
            cfg,
            changes: events.schedules_changed(),
            events,
            leases,
            heap: BinaryHeap::new(),
            loaded: HashMap::new(),
            next_load: Timestamp::MIN,
        }
    }

    /// Runs until `cancel`, then gives its buckets back.
    pub async fn run(self, cancel: CancellationToken) {
        let span = tracing::info_span!("scheduler", instance = %self.cfg.instance_id);
        self.run_loop(cancel).instrument(span).await
    }

    async fn run_loop(mut self, cancel: CancellationToken) {
        loop {
            let wake_at = match self.tick().await {
                Ok(at) => at,
                Err(e) => {
                    tracing::warn!(error = %e, "scheduler pass failed; retrying");
                    self.clock.now() + SignedDuration::from_millis(500)
                }
            };
            let delay = wake_at
                .duration_since(self.clock.now())
                .max(SignedDuration::ZERO);
            let sleep = tokio::time::sleep(delay.unsigned_abs());
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = self.changes.notified() => {}
                _ = sleep => {}
            }
        }
        self.leases.release_all(self.store.as_ref()).await;
    }

    /// One pass: renew leases, reload if due, fire everything due now.
    /// Returns when the next pass should run. Tests call this directly on a
    /// manual clock.
    pub async fn tick(&mut self) -> chime_store::Result<Timestamp> {
        let now = self.clock.now();
        if self.leases.renew_if_due(self.store.as_ref(), now).await? {
            self.next_load = Timestamp::MIN;
        }
        let changed = self.changes.take();
        if changed.all {
            self.next_load = Timestamp::MIN;
        }
        if now >= self.next_load {
            self.load(now).await?;
        } else if !changed.ids.is_empty() {
            self.refresh(changed.ids).await?;
        }
        if let Err(e) = self.fire_due(now).await {
            // Popped schedules are not lost (their next fire did not move in
            // the store) but must be read again at once, not at the next reload.
            self.next_load = Timestamp::MIN;
            return Err(e);
        }
        let mut wake = self.next_load.min(self.leases.next_renewal());
        if let Some(Reverse(due)) = self.heap.peek() {
            wake = wake.min(due.at - self.ahead);
        }
        Ok(wake)
    }

    async fn load(&mut self, now: Timestamp) -> chime_store::Result<()> {
        self.heap.clear();
        self.loaded.clear();
        self.next_load = now + self.cfg.reload_every;
        let buckets = self.leases.held_buckets();
        if !buckets.is_empty() {
            let until = self.horizon();
            let due = self
                .store
                .schedules_due(SchedulesDue {
                    buckets,
                    until,
                    limit: 100_000,
                })
                .await?;
            for schedule in due {
                self.admit(schedule);
            }
        }
        Ok(())
    }

    /// Reads the schedules in `ids` that live in this instance's buckets and
    /// holds each as it now is: in memory if it fires before the next
    /// reload, else not at all. Their old heap entries go stale (see
    /// `fire_due`).
    async fn refresh(&mut self, ids: HashSet<String>) -> chime_store::Result<()> {
        let buckets = self.cfg.buckets;
        let mine: Vec<String> = ids
            .into_iter()
            .filter(|id| self.leases.epoch(bucket_of(id, buckets)).is_some())
            .collect();
        let store = &self.store;
        let read: Vec<_> = futures_util::stream::iter(mine)
            .map(|id| async move {
                let schedule = store.schedules_get(&id).await;
                (id, schedule)
            })
            .buffer_unordered(READS_AT_ONCE)
            .collect()
            .await;
        let until = self.horizon();
        for (id, schedule) in read {
            let schedule = match schedule {
                Ok(schedule) => schedule,
                Err(e) => {
                    // The ids taken are not kept: read everything instead.
                    self.next_load = Timestamp::MIN;
                    return Err(e);
                }
            };
            self.loaded.remove(&id);
            match schedule {
                Some(s) if !s.spec.paused && s.next_fire_at.is_some_and(|at| at <= until) => {
                    self.admit(s)
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Memory holds every fire due before the next reload plus the
    /// look-ahead, so none waits for a reload to be seen.
    fn horizon(&self) -> Timestamp {
        self.next_load + self.cfg.lookahead
    }

    /// Adds a schedule to the heap if it has a fire within the look-ahead.
    fn admit(&mut self, schedule: Schedule) {
        let Some(at) = schedule.next_fire_at else {
            return;
        };
        match schedule.spec.times(&self.cfg.default_zone) {
            Ok(times) => {
                self.push(at, &schedule.id);
                self.loaded
                    .insert(schedule.id.clone(), Loaded { schedule, times });
            }
            Err(e) => {
                // Stored by an older version, or edited outside the API.
                tracing::error!(schedule = %schedule.id, error = %e, "schedule does not validate; not firing it");
            }
        }
    }

    async fn fire_due(&mut self, now: Timestamp) -> chime_store::Result<()> {
        let began = self.clock.now();
        let mut fired = false;
        loop {
            let mut fires = Vec::new();
            let mut ids = Vec::new();
            let mut missed = Vec::new();
            while fires.len() < self.cfg.batch_max {
                let Some(Reverse(due)) = self.heap.peek() else {
                    break;
                };
                if due.at > now + self.ahead {
                    break;
                }
                let Some(Reverse(Due { at, bucket, id })) = self.heap.pop() else {
                    break;
                };
                // A schedule read again alone with its fire unchanged is in
                // twice; equal entries come out one after the other.
                while self
                    .heap
                    .peek()
                    .is_some_and(|Reverse(d)| d.at == at && d.id == id)
                {
                    self.heap.pop();
                }
                let Some(entry) = self.loaded.get(&id) else {
                    continue;
                };
                if entry.schedule.next_fire_at != Some(at) {
                    continue; // stale heap item
                }
                let Some(epoch) = self.leases.epoch(bucket) else {
                    continue; // bucket lost since the load
                };
                // Planned as of the instant when firing ahead of it.
                let plan = plan::plan(&entry.schedule, &entry.times, now.max(at), &self.cfg.plan);
                let missed_runs: Vec<_> = plan
                    .occurrences
                    .iter()
                    .filter(|o| o.outcome == OccurrenceOutcome::Missed)
                    .collect();
                let missed_fires = missed_runs.iter().map(|o| o.count).sum::<u64>();
                let spec = &entry.schedule.spec;
                missed.push((
                    spec.misfire.policy,
                    missed_fires,
                    missed_runs.first().map(|first| Missed {
                        schedule_id: id.clone(),
                        schedule_name: spec.name.clone(),
                        queue: spec.job.queue.clone(),
                        on_failure: spec.on_failure.clone(),
                        policy: spec.misfire.policy,
                        count: missed_fires,
                        first: first.scheduled_for,
                        last: missed_runs
                            .last()
                            .and_then(|o| o.last_scheduled_for)
                            .unwrap_or(first.scheduled_for),
                    }),
                ));
                fires.push(ScheduleFire {
                    schedule_id: id.clone(),
                    bucket,
                    epoch,
                    expected_next_fire_at: at,
                    expected_version: entry.schedule.version,
                    next_fire_at: plan.next_fire_at,
                    overlap: entry.schedule.spec.overlap,
                    occurrences: plan.occurrences,
                });
                ids.push(id);
            }
            if fires.is_empty() {
                if fired {
                    self.adapt_ahead(self.clock.now().duration_since(began));
                }
                return Ok(());
            }
            fired = true;
            let next: Vec<Option<Timestamp>> = fires.iter().map(|f| f.next_fire_at).collect();
            let instants: Vec<Timestamp> = fires.iter().map(|f| f.expected_next_fire_at).collect();
            let results = self
                .store
                .fire(FireBatch {
                    owner: self.cfg.instance_id.clone(),
                    fires,
                    now: None,
                })
                .await?;
            // Fire lateness: scheduled instant to the fire being durable.
            let written = self.clock.now();
            let mut made_jobs = false;
            for ((((id, next), instant), missed), result) in ids
                .into_iter()
                .zip(next)
                .zip(instants)
                .zip(missed)
                .zip(results)
            {
                let late = written.duration_since(instant);
                match result {
                    FireResult::Applied {
                        job_ids,
                        skipped_overlap,
                    } => {
                        made_jobs |= !job_ids.is_empty();
                        let (policy, missed_fires, notice) = missed;
                        self.events.fired(
                            job_ids.len(),
                            (policy, missed_fires),
                            late,
                            skipped_overlap,
                        );
                        if let Some(notice) = notice {
                            self.events.notifier.missed(notice).await;
                        }
                        self.requeue(&id, next);
                    }
                    FireResult::Duplicate => {
                        // Edited, deleted or fired elsewhere: read it again.
                        self.loaded.remove(&id);
                        self.changes.changed(&id);
                    }
                    FireResult::StaleEpoch => {
                        self.loaded.remove(&id);
                        self.leases.forget(bucket_of(&id, self.cfg.buckets));
                        self.events.stale_epoch();
                    }
                }
            }
            if made_jobs {
                self.events.jobs_ready();
            }
        }
    }

    /// Sets the lead for the next fires from how long writing this burst
    /// took: twice that, at least `fire_ahead` and at most
    /// [`MAX_FIRE_AHEAD`]. It grows at once and shrinks a quarter of the way
    /// per burst, so one quiet second does not undo it.
    fn adapt_ahead(&mut self, took: SignedDuration) {
        self.ahead = next_ahead(self.ahead, took, self.cfg.fire_ahead);
    }

    /// Puts a fired schedule back with its next instant, if it is soon.
    fn requeue(&mut self, id: &str, next: Option<Timestamp>) {
        let Some(entry) = self.loaded.get_mut(id) else {
            return;
        };
        entry.schedule.next_fire_at = next;
        match next {
            Some(at) if at <= self.horizon() => self.push(at, id),
            _ => {
                self.loaded.remove(id);
            }
        }
    }

    fn push(&mut self, at: Timestamp, id: &str) {
        let bucket = bucket_of(id, self.cfg.buckets);
        self.heap.push(Reverse(Due {
            at,
            bucket,
            id: id.to_string(),
        }));
    }

    pub fn held_buckets(&self) -> Vec<u32> {
        self.leases.held_buckets()
    }
}

#[cfg(test)]
mod ahead_tests {
    use super::{next_ahead, MAX_FIRE_AHEAD};
    use jiff::SignedDuration;

    fn ms(n: i64) -> SignedDuration {
        SignedDuration::from_millis(n)
    }

    #[test]
    fn the_lead_grows_at_once_within_its_bounds_and_shrinks_slowly() {
        // A fast burst keeps the configured lead.
        assert_eq!(next_ahead(ms(200), ms(30), ms(200)), ms(200));
        // A slow one doubles its time at once, never past the cap.
        assert_eq!(next_ahead(ms(200), ms(300), ms(200)), ms(600));
        assert_eq!(next_ahead(ms(200), ms(5_000), ms(200)), MAX_FIRE_AHEAD);
        // Then it comes down a quarter of the way per quiet burst.
        assert_eq!(next_ahead(ms(600), ms(10), ms(200)), ms(500));
        // A configured lead above the cap is kept.
        assert_eq!(next_ahead(ms(1_500), ms(10), ms(1_500)), ms(1_500));
    }
}
