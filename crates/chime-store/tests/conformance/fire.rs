use super::*;
use chime_core::model::{JobState, OccurrenceOutcome, Overlap};
use chime_store::{
    BucketLease, FireBatch, FireResult, JobsList, NewOccurrence, OccurrencesList, ScheduleCreate,
    ScheduleFire, ScheduleUpdate,
};

async fn schedule(store: &Arc<dyn Store>, bucket: u32, next: Timestamp) -> String {
    store
        .schedules_create(ScheduleCreate {
            id: new_id(),
            spec: spec("s"),
            bucket,
            next_fire_at: Some(next),
            now: None,
        })
        .await
        .expect("create")
        .id
}

fn job_for(schedule_id: &str, at: Timestamp) -> NewJob {
    NewJob {
        schedule_id: Some(schedule_id.into()),
        scheduled_for: Some(at),
        ..new_job("q", at)
    }
}

fn one_fire(
    schedule_id: &str,
    bucket: u32,
    epoch: u64,
    at: Timestamp,
    next: Timestamp,
) -> ScheduleFire {
    ScheduleFire {
        schedule_id: schedule_id.into(),
        bucket,
        epoch,
        expected_next_fire_at: at,
        expected_version: 1,
        next_fire_at: Some(next),
        overlap: Overlap::Allow,
        occurrences: vec![NewOccurrence::fired(at, job_for(schedule_id, at))],
    }
}

async fn fire(
    store: &Arc<dyn Store>,
    owner: &str,
    fires: Vec<ScheduleFire>,
    now: Timestamp,
) -> Vec<FireResult> {
    store
        .fire(FireBatch {
            owner: owner.into(),
            fires,
            now: Some(now),
        })
        .await
        .expect("fire")
}

async fn ledger(store: &Arc<dyn Store>, schedule_id: &str) -> Vec<chime_core::model::Occurrence> {
    store
        .occurrences_list(OccurrencesList {
            schedule_id: schedule_id.into(),
            before: None,
            limit: 10,
        })
        .await
        .expect("ledger")
}

async fn jobs_of(store: &Arc<dyn Store>, schedule_id: &str) -> Vec<chime_core::model::Job> {
    store
        .jobs_list(JobsList {
            schedule_id: Some(schedule_id.into()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .expect("list")
}

pub async fn inserts_jobs_and_advances_atomically(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let epoch = lease(&store, OWNER, 7, t).await;
    let id = schedule(&store, 7, t).await;
    let results = fire(
        &store,
        OWNER,
        vec![one_fire(&id, 7, epoch, t, secs(t, 60))],
        t,
    )
    .await;
    let FireResult::Applied {
        job_ids,
        skipped_overlap: false,
    } = &results[0]
    else {
        panic!("{results:?}")
    };
    assert_eq!(job_ids.len(), 1);
    let s = store.schedules_get(&id).await.unwrap().unwrap();
    assert_eq!(s.next_fire_at, Some(secs(t, 60)));
    let job = store
        .jobs_get(&job_ids[0])
        .await
        .unwrap()
        .expect("job stored");
    assert_eq!(
        (job.schedule_id.as_deref(), job.scheduled_for, job.state),
        (Some(id.as_str()), Some(t), JobState::Pending)
    );
    let ledger = ledger(&store, &id).await;
    assert_eq!(ledger.len(), 1);
    assert_eq!(
        (ledger[0].outcome, ledger[0].job_id.as_deref()),
        (OccurrenceOutcome::Fired, Some(job.id.as_str()))
    );
}

pub async fn is_idempotent_on_the_fire_key(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let epoch = lease(&store, OWNER, 1, t).await;
    let id = schedule(&store, 1, t).await;
    fire(
        &store,
        OWNER,
        vec![one_fire(&id, 1, epoch, t, secs(t, 60))],
        t,
    )
    .await;
    // The same fire again: the schedule moved on, nothing is written.
    let again = fire(
        &store,
        OWNER,
        vec![one_fire(&id, 1, epoch, t, secs(t, 60))],
        t,
    )
    .await;
    assert_eq!(again, vec![FireResult::Duplicate]);
    // Even if the schedule is set back to the same instant, the fire key holds.
    let s = store.schedules_get(&id).await.unwrap().unwrap();
    store
        .schedules_update(ScheduleUpdate {
            id: id.clone(),
            expected_version: None,
            spec: s.spec,
            next_fire_at: Some(t),
            occurrences: vec![],
            now: None,
        })
        .await
        .unwrap();
    // The update bumped the version to 2; fire from a fresh read.
    let mut replayed = one_fire(&id, 1, epoch, t, secs(t, 60));
    replayed.expected_version = 2;
    let replay = fire(&store, OWNER, vec![replayed], t).await;
    assert_eq!(
        replay,
        vec![FireResult::Applied {
            job_ids: vec![],
            skipped_overlap: false
        }]
    );
    assert_eq!(jobs_of(&store, &id).await.len(), 1);
}

/// A batch that names a schedule twice for one instant (the scheduler's
/// memory can hold a schedule twice after reading it again) makes one job:
/// the first fire applies, the second is a duplicate, others are unaffected.
pub async fn one_batch_naming_a_schedule_twice_fires_it_once(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let epoch = lease(&store, OWNER, 6, t).await;
    for overlap in [Overlap::Allow, Overlap::Skip] {
        let twice = schedule(&store, 6, t).await;
        let other = schedule(&store, 6, t).await;
        let fires: Vec<ScheduleFire> = [&twice, &twice, &other]
            .into_iter()
            .map(|id| ScheduleFire {
                overlap,
                ..one_fire(id, 6, epoch, t, secs(t, 60))
            })
            .collect();
        let first_job = fires[0].occurrences[0].job.as_ref().map(|j| j.id.clone());
        let other_job = fires[2].occurrences[0].job.as_ref().map(|j| j.id.clone());
        let results = fire(&store, OWNER, fires, t).await;
        assert_eq!(
            results,
            vec![
                FireResult::Applied {
                    job_ids: first_job.clone().into_iter().collect(),
                    skipped_overlap: false
                },
                FireResult::Duplicate,
                FireResult::Applied {
                    job_ids: other_job.into_iter().collect(),
                    skipped_overlap: false
                },
            ],
            "{overlap:?}"
        );
        let jobs = jobs_of(&store, &twice).await;
        assert_eq!(jobs.len(), 1, "{overlap:?}: {jobs:?}");
        assert_eq!(Some(jobs[0].id.clone()), first_job);
        let l = ledger(&store, &twice).await;
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].job_id, first_job, "the ledger names the job made");
        assert_eq!(jobs_of(&store, &other).await.len(), 1);
    }
}

pub async fn edited_schedule_is_not_fired_from_a_stale_copy(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let epoch = lease(&store, OWNER, 3, t).await;
    let id = schedule(&store, 3, t).await;
    let s = store.schedules_get(&id).await.unwrap().unwrap();
    // Same next fire, new payload: version 2.
    let mut spec = s.spec.clone();
    spec.job.payload = serde_json::json!({"v": 2});
    store
        .schedules_update(ScheduleUpdate {
            id: id.clone(),
            expected_version: Some(1),
            spec,
            next_fire_at: Some(t),
            occurrences: vec![],
            now: None,
        })
        .await
        .unwrap();
    let stale = fire(
        &store,
        OWNER,
        vec![one_fire(&id, 3, epoch, t, secs(t, 60))],
        t,
    )
    .await;
    assert_eq!(stale, vec![FireResult::Duplicate]);
    assert!(jobs_of(&store, &id).await.is_empty());
}

pub async fn concurrent_firers_make_one_job_per_fire(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let epoch = lease(&store, OWNER, 2, t).await;
    let mut ids = Vec::new();
    for _ in 0..40 {
        ids.push(schedule(&store, 2, t).await);
    }
    // Eight firers that all believe they own the bucket fire the same
    // instants, in different orders and batch sizes.
    let mut tasks = Vec::new();
    for firer in 0..8usize {
        let store = store.clone();
        let mut mine = ids.clone();
        mine.rotate_left(firer * 5);
        tasks.push(tokio::spawn(async move {
            for chunk in mine.chunks(firer % 4 + 1) {
                let fires = chunk
                    .iter()
                    .map(|id| one_fire(id, 2, epoch, t, secs(t, 60)))
                    .collect();
                store
                    .fire(FireBatch {
                        owner: OWNER.into(),
                        fires,
                        now: Some(t),
                    })
                    .await
                    .expect("fire");
            }
        }));
    }
    for task in tasks {
        task.await.expect("firer");
    }
    for id in &ids {
        let jobs = jobs_of(&store, id).await;
        assert_eq!(jobs.len(), 1, "schedule {id} has {} jobs", jobs.len());
        assert_eq!(jobs[0].scheduled_for, Some(t));
    }
}

pub async fn stale_epoch_is_rejected(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let old = lease(&store, "a", 4, t).await;
    let id = schedule(&store, 4, t).await;
    // a's lease (60 s) lapses; b takes the bucket over with a new epoch.
    let later = secs(t, 61);
    let new = lease(&store, "b", 4, later).await;
    assert!(new > old);
    let by_a = fire(
        &store,
        "a",
        vec![one_fire(&id, 4, old, t, secs(t, 60))],
        later,
    )
    .await;
    assert_eq!(by_a, vec![FireResult::StaleEpoch]);
    // Right owner, old epoch: rejected too.
    let old_epoch = fire(
        &store,
        "b",
        vec![one_fire(&id, 4, old, t, secs(t, 60))],
        later,
    )
    .await;
    assert_eq!(old_epoch, vec![FireResult::StaleEpoch]);
    assert!(jobs_of(&store, &id).await.is_empty());
    let by_b = fire(
        &store,
        "b",
        vec![one_fire(&id, 4, new, t, secs(t, 60))],
        later,
    )
    .await;
    assert!(matches!(&by_b[0], FireResult::Applied { job_ids, .. } if job_ids.len() == 1));
    // An owner whose own lease has lapsed cannot fire either.
    let id2 = schedule(&store, 4, t).await;
    let lapsed = fire(
        &store,
        "b",
        vec![one_fire(&id2, 4, new, t, secs(t, 60))],
        secs(later, 61),
    )
    .await;
    assert_eq!(lapsed, vec![FireResult::StaleEpoch]);
}

pub async fn bucket_leases_have_epochs(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let ttl = SignedDuration::from_secs(5);
    let acquire = |owner: &'static str, now: Timestamp| {
        let store = store.clone();
        async move {
            store
                .buckets_acquire(BucketsAcquire {
                    owner: owner.into(),
                    buckets: vec![10, 11],
                    ttl,
                    now: Some(now),
                })
                .await
                .expect("acquire")
        }
    };
    let a = acquire("a", t).await;
    assert_eq!(a.iter().map(|l| l.bucket).collect::<Vec<_>>(), vec![10, 11]);
    assert!(
        acquire("b", secs(t, 1)).await.is_empty(),
        "b must wait for a's leases"
    );
    // Renewal keeps the epoch.
    let renewed = acquire("a", secs(t, 3)).await;
    assert_eq!(
        renewed.iter().map(|l| l.epoch).collect::<Vec<_>>(),
        a.iter().map(|l| l.epoch).collect::<Vec<_>>()
    );
    assert_eq!(renewed[0].expires_at, secs(t, 8));
    // Expired: b takes over and the epoch moves on.
    let b = acquire("b", secs(t, 9)).await;
    assert_eq!(b.len(), 2);
    assert!(b
        .iter()
        .zip(&a)
        .all(|(b, a)| b.epoch > a.epoch && b.owner == "b"));
    store.buckets_release("b", &[10]).await.unwrap();
    let listed: Vec<BucketLease> = store.buckets_list().await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|l| (l.bucket, l.owner.as_str()))
            .collect::<Vec<_>>(),
        vec![(11, "b")]
    );
    let again = acquire("a", secs(t, 9)).await;
    assert_eq!(again.iter().map(|l| l.bucket).collect::<Vec<_>>(), vec![10]);
}

pub async fn overlap_skip_and_replace(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let epoch = lease(&store, OWNER, 5, t).await;
    for (overlap, expect_skip) in [(Overlap::Skip, true), (Overlap::Replace, false)] {
        let id = schedule(&store, 5, t).await;
        let mut first = one_fire(&id, 5, epoch, t, secs(t, 60));
        first.overlap = overlap;
        fire(&store, OWNER, vec![first], t).await;
        // The owner renews its lease, as it does every second.
        assert_eq!(lease(&store, OWNER, 5, secs(t, 60)).await, epoch);
        let mut second = one_fire(&id, 5, epoch, secs(t, 60), secs(t, 120));
        second.overlap = overlap;
        let result = fire(&store, OWNER, vec![second], secs(t, 60)).await;
        let jobs = jobs_of(&store, &id).await;
        let ledger = ledger(&store, &id).await;
        if expect_skip {
            assert_eq!(
                result,
                vec![FireResult::Applied {
                    job_ids: vec![],
                    skipped_overlap: true
                }]
            );
            assert_eq!(jobs.len(), 1);
            assert_eq!(ledger[0].outcome, OccurrenceOutcome::Skipped);
            assert!(ledger[0]
                .reason
                .as_deref()
                .unwrap_or("")
                .contains("overlap"));
        } else {
            assert_eq!(jobs.len(), 2);
            let states: Vec<JobState> = jobs.iter().map(|j| j.state).collect();
            assert!(
                states.contains(&JobState::Cancelled) && states.contains(&JobState::Pending),
                "{states:?}"
            );
            assert_eq!(ledger[0].outcome, OccurrenceOutcome::Fired);
        }
    }
}

/// A scheduled job's finish frees its schedule: the next fire with
/// overlap `Skip` makes a job. Both ways a completion can reach the store:
/// with the claimed job held (Redis takes its schedule id from it) and
/// without.
pub async fn a_finished_job_frees_its_schedule_for_the_next_fire(store: Arc<dyn Store>) {
    use chime_store::{JobsClaim, JobsComplete};
    let t = base(&store).await;
    let epoch = lease(&store, OWNER, 5, t).await;
    for held in [true, false] {
        let id = schedule(&store, 5, t).await;
        let mut first = one_fire(&id, 5, epoch, t, secs(t, 60));
        first.overlap = Overlap::Skip;
        fire(&store, OWNER, vec![first], t).await;
        let claimed = store
            .jobs_claim(JobsClaim {
                queues: vec!["q".into()],
                due_by: None,
                due_after: None,
                limit: 10,
                worker: "w".into(),
                lease: SignedDuration::from_secs(30),
                now: Some(secs(t, 1)),
            })
            .await
            .expect("claim");
        // The first round's second job is claimed too: this round's is ours.
        let c = claimed
            .iter()
            .find(|c| c.job.schedule_id.as_deref() == Some(id.as_str()))
            .expect("this schedule's job claimed");
        let results = store
            .jobs_complete(JobsComplete {
                completions: vec![succeeded(c, held)],
                now: Some(secs(t, 2)),
            })
            .await
            .expect("complete");
        assert!(results[0].is_ok(), "{results:?}");
        assert_eq!(lease(&store, OWNER, 5, secs(t, 60)).await, epoch);
        let mut second = one_fire(&id, 5, epoch, secs(t, 60), secs(t, 120));
        second.overlap = Overlap::Skip;
        let result = fire(&store, OWNER, vec![second], secs(t, 60)).await;
        let [FireResult::Applied {
            job_ids,
            skipped_overlap: false,
        }] = result.as_slice()
        else {
            panic!("held {held}: the second fire was not applied unskipped: {result:?}")
        };
        assert_eq!(job_ids.len(), 1, "held {held}");
    }
}

/// A catch-up fire of two occurrences (`fire_all`), one minute apart,
/// applied at the second: both jobs are made. Returns the first instant,
/// the two job ids and each of the schedule's jobs with its state.
async fn catch_up_fire(
    store: &Arc<dyn Store>,
    overlap: Overlap,
) -> (Timestamp, [String; 2], Vec<(String, JobState)>) {
    let t = base(store).await;
    let epoch = lease(store, OWNER, 7, secs(t, 60)).await;
    let id = schedule(store, 7, t).await;
    let first = job_for(&id, t);
    let second = job_for(&id, secs(t, 60));
    let fires = vec![ScheduleFire {
        occurrences: vec![
            NewOccurrence::fired(t, first.clone()),
            NewOccurrence::fired(secs(t, 60), second.clone()),
        ],
        overlap,
        ..one_fire(&id, 7, epoch, t, secs(t, 120))
    }];
    let result = fire(store, OWNER, fires, secs(t, 60)).await;
    assert_eq!(
        result,
        vec![FireResult::Applied {
            job_ids: vec![first.id.clone(), second.id.clone()],
            skipped_overlap: false
        }]
    );
    let states = jobs_of(store, &id)
        .await
        .into_iter()
        .map(|j| (j.id, j.state))
        .collect();
    (t, [first.id, second.id], states)
}

/// Under `replace` the second job cancels the first within the one atomic
/// fire, and only the second is ever claimable (a store that queues the
/// first job after cancelling it would hand out a cancelled job).
pub async fn replace_within_one_fire_leaves_one_claimable_job(store: Arc<dyn Store>) {
    let (t, [first, second], states) = catch_up_fire(&store, Overlap::Replace).await;
    assert!(states.contains(&(first, JobState::Cancelled)), "{states:?}");
    assert!(
        states.contains(&(second.clone(), JobState::Pending)),
        "{states:?}"
    );
    let claimed = super::jobs::claim(&store, &["q"], 10, secs(t, 61), 30).await;
    let ids: Vec<&str> = claimed.iter().map(|c| c.job.id.as_str()).collect();
    assert_eq!(ids, vec![second.as_str()]);
    assert!(super::jobs::claim(&store, &["q"], 10, secs(t, 62), 30)
        .await
        .is_empty());
}

/// Under `allow` each occurrence's job stands: none replaces the one
/// made before it in the same fire.
pub async fn allow_keeps_every_job_of_one_fire(store: Arc<dyn Store>) {
    let (t, [first, second], states) = catch_up_fire(&store, Overlap::Allow).await;
    assert!(states.contains(&(first, JobState::Pending)), "{states:?}");
    assert!(states.contains(&(second, JobState::Pending)), "{states:?}");
    let claimed = super::jobs::claim(&store, &["q"], 10, secs(t, 61), 30).await;
    assert_eq!(claimed.len(), 2);
}

pub async fn records_missed_runs_in_the_ledger(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let id = schedule(&store, 6, t).await;
    let now = secs(t, 3600);
    let epoch = lease(&store, OWNER, 6, now).await;
    let fires = vec![ScheduleFire {
        schedule_id: id.clone(),
        bucket: 6,
        epoch,
        expected_next_fire_at: t,
        expected_version: 1,
        next_fire_at: Some(secs(now, 60)),
        overlap: Overlap::Allow,
        occurrences: vec![
            NewOccurrence::not_fired(
                OccurrenceOutcome::Missed,
                t,
                secs(t, 3540),
                59,
                "misfire: fire_once",
            ),
            NewOccurrence::fired(now, job_for(&id, now)),
        ],
    }];
    fire(&store, OWNER, fires, now).await;
    let ledger = ledger(&store, &id).await;
    assert_eq!(ledger.len(), 2);
    assert_eq!(
        (ledger[0].outcome, ledger[0].scheduled_for),
        (OccurrenceOutcome::Fired, now)
    );
    assert_eq!(
        (
            ledger[1].outcome,
            ledger[1].count,
            ledger[1].last_scheduled_for
        ),
        (OccurrenceOutcome::Missed, 59, Some(secs(t, 3540)))
    );
    let older = store
        .occurrences_list(OccurrencesList {
            schedule_id: id,
            before: Some(now),
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(older.len(), 1);
}
