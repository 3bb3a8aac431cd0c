//! The scheduler end to end over a real SQLite store, driven by a manual
//! clock: every `tick` runs one pass at the clock's instant, so days of
//! schedule time pass without sleeping.

use chime_core::model::{JobState, Occurrence, OccurrenceOutcome, ScheduleSpec};
use chime_core::time::{Clock, ManualClock};
use chime_engine::events::Events;
use chime_engine::scheduler::{Scheduler, SchedulerConfig};
use chime_engine::service::Service;
use chime_store::sqlite::SqliteStore;
use chime_store::{JobsList, OccurrencesList, Store};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

struct World {
    store: Arc<dyn Store>,
    clock: ManualClock,
    service: Service,
    _dir: tempfile::TempDir,
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("instant")
}

async fn world(start: &str) -> World {
    let dir = tempfile::tempdir().expect("dir");
    let clock = ManualClock::new(ts(start));
    let url = format!("sqlite://{}", dir.path().join("chime.db").display());
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open_with_clock(&url, Arc::new(clock.clone()))
            .await
            .expect("store"),
    );
    let service = Service {
        store: store.clone(),
        clock: Arc::new(clock.clone()),
        events: Events::new(),
        buckets: 16,
        default_zone: chime_core::Zone::utc(),
        allow_commands: false,
        email: false,
    };
    World {
        store,
        clock,
        service,
        _dir: dir,
    }
}

fn scheduler(w: &World, instance: &str) -> Scheduler {
    let mut cfg = SchedulerConfig::new(instance);
    cfg.buckets = 16;
    Scheduler::new(
        w.store.clone(),
        Arc::new(w.clock.clone()),
        cfg,
        Events::new(),
    )
}

fn spec(json: serde_json::Value) -> ScheduleSpec {
    serde_json::from_value(json).expect("spec")
}

fn every(name: &str, every: &str) -> ScheduleSpec {
    spec(serde_json::json!({"name": name, "every": every, "job": {}}))
}

/// Creates a schedule that fires `every` through the service; its id.
async fn create_every(w: &World, name: &str, every_: &str) -> String {
    w.service
        .schedule_create(every(name, every_))
        .await
        .expect("create")
        .id
}

/// Moves the clock from fire to fire of `id` until `until`, ticking each.
async fn run_until(w: &World, schedulers: &mut [&mut Scheduler], id: &str, until: Timestamp) {
    loop {
        let s = w.store.schedules_get(id).await.unwrap().unwrap();
        let Some(next) = s.next_fire_at.filter(|n| *n <= until) else {
            break;
        };
        w.clock.set(next);
        for s in schedulers.iter_mut() {
            s.tick().await.expect("tick");
        }
    }
}

async fn fired_instants(w: &World, id: &str) -> Vec<Timestamp> {
    let mut jobs = w
        .store
        .jobs_list(JobsList {
            schedule_id: Some(id.into()),
            limit: 10_000,
            ..Default::default()
        })
        .await
        .unwrap();
    jobs.sort_by_key(|j| j.scheduled_for);
    jobs.iter().filter_map(|j| j.scheduled_for).collect()
}

async fn ledger(w: &World, id: &str) -> Vec<Occurrence> {
    let mut l = w
        .store
        .occurrences_list(OccurrencesList {
            schedule_id: id.into(),
            before: None,
            limit: 1000,
        })
        .await
        .unwrap();
    l.reverse();
    l
}

#[tokio::test]
async fn a_dst_day_fires_each_wall_time_once() {
    let w = world("2026-03-07T12:00:00Z").await;
    let daily = w
        .service
        .schedule_create(spec(serde_json::json!({"name": "d", "cron": "30 2 * * *", "timezone": "America/New_York", "job": {}})))
        .await
        .unwrap();
    let half_hourly = w
        .service
        .schedule_create(spec(serde_json::json!({"name": "h", "cron": "*/30 * * * *", "timezone": "America/New_York", "job": {}})))
        .await
        .unwrap();
    let mut s = scheduler(&w, "a");
    let end = ts("2026-03-09T12:00:00Z");
    run_until(&w, &mut [&mut s], &daily.id, end).await;
    assert_eq!(
        fired_instants(&w, &daily.id).await,
        vec![ts("2026-03-08T07:00:00Z"), ts("2026-03-09T06:30:00Z")],
        "02:30 on the spring-forward day fires once, at 03:00 EDT"
    );
    let w2 = world("2026-03-08T05:50:00Z").await;
    let hh = w2
        .service
        .schedule_create(half_hourly.spec.clone())
        .await
        .unwrap();
    let mut s2 = scheduler(&w2, "a");
    run_until(&w2, &mut [&mut s2], &hh.id, ts("2026-03-08T08:00:00Z")).await;
    // 01:00, 01:30 EST, then 03:00 EDT: the missing hour has no fires.
    assert_eq!(
        fired_instants(&w2, &hh.id).await,
        vec![
            ts("2026-03-08T06:00:00Z"),
            ts("2026-03-08T06:30:00Z"),
            ts("2026-03-08T07:00:00Z"),
            ts("2026-03-08T07:30:00Z"),
            ts("2026-03-08T08:00:00Z")
        ]
    );
}

async fn downtime(policy: serde_json::Value) -> (World, String) {
    let w = world("2026-01-01T09:30:00Z").await;
    let s = w
        .service
        .schedule_create(spec(serde_json::json!({"name": "hourly", "cron": "0 * * * *", "job": {}, "misfire": policy})))
        .await
        .unwrap();
    // No instance runs from 09:30 to 15:30.
    w.clock.set(ts("2026-01-01T15:30:00Z"));
    let mut sched = scheduler(&w, "a");
    sched.tick().await.unwrap();
    (w, s.id)
}

#[tokio::test]
async fn misfire_fire_once_makes_one_catch_up_job() {
    let (w, id) = downtime(serde_json::json!("fire_once")).await;
    assert_eq!(
        fired_instants(&w, &id).await,
        vec![ts("2026-01-01T15:00:00Z")]
    );
    let l = ledger(&w, &id).await;
    assert_eq!(
        (l[0].outcome, l[0].count, l[0].scheduled_for),
        (OccurrenceOutcome::Missed, 5, ts("2026-01-01T10:00:00Z"))
    );
    assert_eq!(l[1].outcome, OccurrenceOutcome::Fired);
    let s = w.store.schedules_get(&id).await.unwrap().unwrap();
    assert_eq!(s.next_fire_at, Some(ts("2026-01-01T16:00:00Z")));
}

#[tokio::test]
async fn misfire_fire_all_replays_up_to_the_limit() {
    let (w, id) = downtime(serde_json::json!({"policy": "fire_all", "catchup_limit": 3})).await;
    assert_eq!(
        fired_instants(&w, &id).await,
        vec![
            ts("2026-01-01T13:00:00Z"),
            ts("2026-01-01T14:00:00Z"),
            ts("2026-01-01T15:00:00Z")
        ]
    );
    let l = ledger(&w, &id).await;
    assert_eq!((l[0].outcome, l[0].count), (OccurrenceOutcome::Missed, 3));
}

#[tokio::test]
async fn misfire_skip_fires_nothing_and_counts() {
    let (w, id) = downtime(serde_json::json!("skip")).await;
    assert!(fired_instants(&w, &id).await.is_empty());
    let l = ledger(&w, &id).await;
    assert_eq!(
        (l.len(), l[0].outcome, l[0].count),
        (1, OccurrenceOutcome::Missed, 6)
    );
}

#[tokio::test]
async fn overlap_skip_and_replace() {
    for (overlap, expect_jobs) in [("skip", 1), ("replace", 3), ("allow", 3)] {
        let w = world("2026-01-01T10:00:30Z").await;
        let s = w
            .service
            .schedule_create(spec(
                serde_json::json!({"name": "m", "every": "1m", "overlap": overlap, "job": {}}),
            ))
            .await
            .unwrap();
        let mut sched = scheduler(&w, "a");
        // Nobody works the queue, so each job stays pending into the next fire.
        run_until(&w, &mut [&mut sched], &s.id, ts("2026-01-01T10:03:00Z")).await;
        let jobs = w
            .store
            .jobs_list(JobsList {
                schedule_id: Some(s.id.clone()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(jobs.len(), expect_jobs, "{overlap}");
        let l = ledger(&w, &s.id).await;
        assert_eq!(l.len(), 3, "{overlap}: one ledger entry per fire");
        match overlap {
            "skip" => assert_eq!(
                l.iter()
                    .filter(|o| o.outcome == OccurrenceOutcome::Skipped)
                    .count(),
                2
            ),
            "replace" => {
                let cancelled = jobs
                    .iter()
                    .filter(|j| j.state == JobState::Cancelled)
                    .count();
                assert_eq!(
                    (cancelled, jobs.len() - cancelled),
                    (2, 1),
                    "only the newest stays pending"
                );
            }
            _ => assert!(jobs.iter().all(|j| j.state == JobState::Pending)),
        }
    }
}

#[tokio::test]
async fn clock_jumps_never_duplicate_a_fire() {
    let w = world("2026-01-01T09:59:00Z").await;
    let s = w
        .service
        .schedule_create(spec(
            serde_json::json!({"name": "m", "every": "10m", "job": {}}),
        ))
        .await
        .unwrap();
    let mut sched = scheduler(&w, "a");
    w.clock.set(ts("2026-01-01T10:00:00Z"));
    sched.tick().await.unwrap();
    // The clock jumps back an hour (NTP step), then runs forward again.
    w.clock.set(ts("2026-01-01T09:00:00Z"));
    sched.tick().await.unwrap();
    w.clock.set(ts("2026-01-01T10:00:00Z"));
    sched.tick().await.unwrap();
    assert_eq!(
        fired_instants(&w, &s.id).await,
        vec![ts("2026-01-01T10:00:00Z")]
    );
    // A jump forward is a misfire like downtime: one catch-up (fire_once).
    w.clock.set(ts("2026-01-01T11:05:00Z"));
    sched.tick().await.unwrap();
    assert_eq!(
        fired_instants(&w, &s.id).await,
        vec![ts("2026-01-01T10:00:00Z"), ts("2026-01-01T11:00:00Z")]
    );
}

#[tokio::test]
async fn two_schedulers_share_buckets_one_job_per_fire_and_takeover() {
    let w = world("2026-01-01T09:59:59Z").await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(create_every(&w, &format!("s{i}"), "1m").await);
    }
    let mut a = scheduler(&w, "a");
    let mut b = scheduler(&w, "b");
    a.tick().await.unwrap();
    b.tick().await.unwrap();
    assert_eq!(a.held_buckets().len(), 16);
    assert!(b.held_buckets().is_empty(), "b must not hold a's buckets");
    for minute in 0..3 {
        let at = ts("2026-01-01T10:00:00Z") + SignedDuration::from_mins(minute);
        // Both beat shortly before each fire, as live instances do every second.
        w.clock.set(at - SignedDuration::from_secs(2));
        a.tick().await.unwrap();
        b.tick().await.unwrap();
        w.clock.set(at);
        a.tick().await.unwrap();
        b.tick().await.unwrap();
        // Once both have beaten, the buckets are shared evenly, never twice.
        let (ha, hb) = (a.held_buckets(), b.held_buckets());
        assert_eq!(ha.len() + hb.len(), 16, "{ha:?} {hb:?}");
        assert!(ha.len().abs_diff(hb.len()) <= 2, "{ha:?} {hb:?}");
        assert!(ha.iter().all(|x| !hb.contains(x)));
    }
    // a dies; its registration and leases expire (5 s TTL) and b takes over.
    for minute in 3..6 {
        w.clock
            .set(ts("2026-01-01T10:00:00Z") + SignedDuration::from_mins(minute));
        b.tick().await.unwrap();
        b.tick().await.unwrap();
    }
    assert_eq!(b.held_buckets().len(), 16);
    for id in &ids {
        let fired = fired_instants(&w, id).await;
        let expected: Vec<Timestamp> = (0..6)
            .map(|m| ts("2026-01-01T10:00:00Z") + SignedDuration::from_mins(m))
            .collect();
        assert_eq!(fired, expected, "schedule {id}");
    }
}

#[tokio::test]
async fn pause_resume_and_trigger() {
    let w = world("2026-01-01T09:59:00Z").await;
    let s = w
        .service
        .schedule_create(spec(
            serde_json::json!({"name": "m", "every": "1m", "job": {}}),
        ))
        .await
        .unwrap();
    let mut sched = scheduler(&w, "a");
    w.service.schedule_pause(&s.id).await.unwrap();
    w.clock.set(ts("2026-01-01T10:05:30Z"));
    sched.tick().await.unwrap();
    assert!(
        fired_instants(&w, &s.id).await.is_empty(),
        "paused schedules do not fire"
    );
    let resumed = w.service.schedule_resume(&s.id).await.unwrap();
    assert_eq!(resumed.next_fire_at, Some(ts("2026-01-01T10:06:00Z")));
    let l = ledger(&w, &s.id).await;
    assert_eq!((l[0].outcome, l[0].count), (OccurrenceOutcome::Skipped, 6));
    let job = w.service.schedule_trigger(&s.id).await.unwrap();
    assert_eq!(
        (job.schedule_id.as_deref(), job.scheduled_for),
        (Some(s.id.as_str()), None)
    );
    assert_eq!(job.run_at, w.clock.now());
}

#[tokio::test]
async fn the_scheduler_wakes_at_each_fire_instant() {
    // Follow the scheduler's own wake-up times: every fire must be written at
    // its exact instant, whatever the gap between fires and reloads.
    let w = world("2026-01-01T10:00:00.250Z").await;
    let mut ids = Vec::new();
    for every in ["1s", "3s", "10s", "17s"] {
        ids.push(create_every(&w, every, every).await);
    }
    let mut sched = scheduler(&w, "a");
    let end = ts("2026-01-01T10:01:00Z");
    while w.clock.now() < end {
        let wake = sched.tick().await.unwrap();
        assert!(wake > w.clock.now(), "the scheduler must not spin");
        w.clock.set(wake);
    }
    for id in &ids {
        let l = ledger(&w, id).await;
        assert!(!l.is_empty());
        for o in &l {
            assert_eq!(o.outcome, OccurrenceOutcome::Fired, "{o:?}");
            // Written ahead of the instant, never after it.
            let ahead = o.scheduled_for.duration_since(o.recorded_at);
            assert!(ahead >= SignedDuration::ZERO, "fired late: {o:?}");
            assert!(
                ahead <= SchedulerConfig::new("a").fire_ahead,
                "fired too early: {o:?}"
            );
        }
    }
}

/// A scheduler that hears the service's changes and never reloads on its
/// own, after its first load; its store calls, counted; and the loads so far.
async fn following(
    w: &World,
    instance: &str,
) -> (Scheduler, Arc<chime_engine::metrics::Metrics>, u64) {
    let mut cfg = SchedulerConfig::new(instance);
    cfg.buckets = 16;
    cfg.reload_every = SignedDuration::from_hours(24);
    let events = w.service.events.clone();
    let store = chime_engine::metrics::MeteredStore::wrap(w.store.clone(), events.metrics.clone());
    let metrics = events.metrics.clone();
    let mut sched = Scheduler::new(store, Arc::new(w.clock.clone()), cfg, events);
    sched.tick().await.unwrap();
    let loads = calls(&metrics, "schedules_due");
    (sched, metrics, loads)
}

fn calls(metrics: &chime_engine::metrics::Metrics, op: &str) -> u64 {
    metrics.store_calls.get(op).duration.count()
}

#[tokio::test]
async fn schedules_created_while_running_are_read_alone_not_by_reloads() {
    let w = world("2026-01-01T10:00:00.500Z").await;
    let (mut sched, metrics, loads) = following(&w, "a").await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(create_every(&w, &format!("s{i}"), "1s").await);
        if i % 5 == 4 {
            sched.tick().await.unwrap();
        }
    }
    assert_eq!(calls(&metrics, "schedules_due"), loads, "no reload");
    assert_eq!(calls(&metrics, "schedules_get"), 20, "each read once");
    // And each fires at its instant from what was read.
    w.clock.set(ts("2026-01-01T10:00:01Z"));
    sched.tick().await.unwrap();
    for id in &ids {
        assert_eq!(
            fired_instants(&w, id).await,
            vec![ts("2026-01-01T10:00:01Z")]
        );
    }
    assert_eq!(calls(&metrics, "schedules_due"), loads);
}

#[tokio::test]
async fn an_edit_read_alone_takes_effect_before_the_next_fire() {
    let w = world("2026-01-01T10:00:10Z").await;
    let edited = create_every(&w, "edited", "1m").await;
    let deleted = create_every(&w, "deleted", "1m").await;
    let paused = create_every(&w, "paused", "1m").await;
    let (mut sched, metrics, loads) = following(&w, "a").await;
    // Every 7 minutes: the next fire moves off 10:01.
    let replaced = w
        .service
        .schedule_replace(&edited, None, every("edited", "7m"))
        .await
        .unwrap();
    let next = replaced.next_fire_at.expect("a next fire");
    assert!(next > ts("2026-01-01T10:01:00Z"), "{next}");
    w.service.schedule_delete(&deleted).await.unwrap();
    w.service.schedule_pause(&paused).await.unwrap();
    w.clock.set(ts("2026-01-01T10:01:00Z"));
    sched.tick().await.unwrap();
    assert_eq!(calls(&metrics, "schedules_due"), loads, "no reload");
    for id in [&edited, &deleted, &paused] {
        assert!(fired_instants(&w, id).await.is_empty(), "{id} fired");
    }
    w.clock.set(next);
    sched.tick().await.unwrap();
    assert_eq!(fired_instants(&w, &edited).await, vec![next]);
}

#[tokio::test]
async fn a_schedule_read_again_with_the_same_next_fire_fires_once() {
    let w = world("2026-01-01T10:00:10Z").await;
    let id = create_every(&w, "m", "1m").await;
    let (mut sched, metrics, loads) = following(&w, "a").await;
    // Paused and resumed before its fire: read twice, its next fire
    // unchanged, so it is in memory twice.
    w.service.schedule_pause(&id).await.unwrap();
    sched.tick().await.unwrap();
    let resumed = w.service.schedule_resume(&id).await.unwrap();
    assert_eq!(resumed.next_fire_at, Some(ts("2026-01-01T10:01:00Z")));
    sched.tick().await.unwrap();
    w.service
        .schedule_replace(&id, None, every("m2", "1m"))
        .await
        .unwrap();
    sched.tick().await.unwrap();
    w.clock.set(ts("2026-01-01T10:01:00Z"));
    sched.tick().await.unwrap();
    assert_eq!(
        fired_instants(&w, &id).await,
        vec![ts("2026-01-01T10:01:00Z")]
    );
    // A second fire of the same instant would have been refused by the
    // store as a duplicate, and the schedule read once more.
    let reads = calls(&metrics, "schedules_get");
    sched.tick().await.unwrap();
    assert_eq!(calls(&metrics, "schedules_get"), reads);
    assert_eq!(calls(&metrics, "schedules_due"), loads);
}

#[tokio::test]
async fn changes_that_may_have_been_missed_reload_everything() {
    let w = world("2026-01-01T10:00:10Z").await;
    let (mut sched, metrics, loads) = following(&w, "a").await;
    // Written straight to the store: nothing names it (as when another
    // instance's announcement was lost while the channel reconnected).
    let id = chime_core::model::new_id();
    w.store
        .schedules_create(chime_store::ScheduleCreate {
            id: id.clone(),
            spec: every("unannounced", "1m"),
            bucket: chime_core::model::schedule::bucket_of(&id, 16),
            next_fire_at: Some(ts("2026-01-01T10:01:00Z")),
            now: None,
        })
        .await
        .unwrap();
    w.service.events.schedules_changed().changed_all();
    sched.tick().await.unwrap();
    assert_eq!(calls(&metrics, "schedules_due"), loads + 1, "a reload");
    w.clock.set(ts("2026-01-01T10:01:00Z"));
    sched.tick().await.unwrap();
    assert_eq!(
        fired_instants(&w, &id).await,
        vec![ts("2026-01-01T10:01:00Z")]
    );
}
