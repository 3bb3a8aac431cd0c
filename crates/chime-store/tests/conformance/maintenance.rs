use super::*;
use chime_core::model::{AttemptOutcome, JobState, OccurrenceOutcome, Overlap};
use chime_store::{
    Completion, FireBatch, JobCompletion, JobsClaim, JobsComplete, NewOccurrence, OccurrencesList,
    QueueStats, RetentionPrune, ScheduleCreate, ScheduleFire,
};

pub async fn counts_per_queue_and_state(store: Arc<dyn Store>) {
    let now = base(&store).await;
    let far = secs(now, 3600);
    let past = secs(now, -3600);
    let mut jobs = vec![
        new_job("a", past),
        new_job("a", past),
        new_job("a", far),
        new_job("b", past),
    ];
    jobs[0].job.max_attempts = 1;
    store.jobs_enqueue(jobs).await.unwrap();
    let claimed = store
        .jobs_claim(JobsClaim {
            due_by: None,
            due_after: None,
            queues: vec!["b".into()],
            limit: 1,
            worker: "w".into(),
            lease: SignedDuration::from_secs(3600),
            now: Some(now),
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let stats = store.queues_stats().await.unwrap();
    assert_eq!(
        stats,
        vec![
            QueueStats {
                queue: "a".into(),
                available: 2,
                scheduled: 1,
                ..Default::default()
            },
            QueueStats {
                queue: "b".into(),
                running: 1,
                ..Default::default()
            },
        ]
    );
}

pub async fn paused_queues_are_not_claimed(store: Arc<dyn Store>) {
    let t = base(&store).await;
    store
        .jobs_enqueue(vec![new_job("slow", t), new_job("fast", t)])
        .await
        .unwrap();
    store.queues_set_paused("slow", true).await.unwrap();
    let claim = |queues: Vec<String>| {
        let store = store.clone();
        async move {
            store
                .jobs_claim(JobsClaim {
                    due_by: None,
                    due_after: None,
                    queues,
                    limit: 10,
                    worker: "w".into(),
                    lease: SignedDuration::from_secs(30),
                    now: Some(t),
                })
                .await
                .unwrap()
        }
    };
    let got = claim(vec![]).await;
    assert_eq!(
        got.iter()
            .map(|c| c.job.job.queue.as_str())
            .collect::<Vec<_>>(),
        vec!["fast"]
    );
    assert!(claim(vec!["slow".into()]).await.is_empty());
    let stats = store.queues_stats().await.unwrap();
    assert!(stats.iter().any(|s| s.queue == "slow" && s.paused));
    store.queues_set_paused("slow", false).await.unwrap();
    assert_eq!(claim(vec!["slow".into()]).await.len(), 1);
}

pub async fn retention_prunes_finished_jobs_and_ledger(store: Arc<dyn Store>) {
    let now = base(&store).await;
    let ids: Vec<String> = store
        .jobs_enqueue(vec![
            new_job("q", now),
            new_job("q", now),
            new_job("q", secs(now, 600)),
        ])
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    let claimed = store
        .jobs_claim(JobsClaim {
            due_by: None,
            due_after: None,
            queues: vec![],
            limit: 1,
            worker: "w".into(),
            lease: SignedDuration::from_secs(30),
            now: Some(now),
        })
        .await
        .unwrap();
    store
        .jobs_complete(JobsComplete {
            completions: vec![JobCompletion {
                job_id: claimed[0].job.id.clone(),
                lease_token: claimed[0].lease_token.clone(),
                completion: Completion::Succeeded,
                outcome: AttemptOutcome::Succeeded,
                error: None,
                output: Some("ok".into()),
                held: None,
            }],
            now: Some(now),
        })
        .await
        .unwrap();
    // One ledger entry, via a fire.
    let epoch = lease(&store, OWNER, 9, now).await;
    let s = store
        .schedules_create(ScheduleCreate {
            id: new_id(),
            spec: spec("s"),
            bucket: 9,
            next_fire_at: Some(now),
            now: None,
        })
        .await
        .unwrap();
    store
        .fire(FireBatch {
            owner: OWNER.into(),
            fires: vec![ScheduleFire {
                schedule_id: s.id.clone(),
                bucket: 9,
                epoch,
                expected_next_fire_at: now,
                expected_version: 1,
                next_fire_at: None,
                overlap: Overlap::Allow,
                occurrences: vec![NewOccurrence::not_fired(
                    OccurrenceOutcome::Skipped,
                    now,
                    now,
                    1,
                    "test",
                )],
            }],
            now: Some(now),
        })
        .await
        .unwrap();
    // A queue that keeps its finished jobs longer.
    store
        .jobs_enqueue(vec![new_job("keep", now)])
        .await
        .unwrap();
    let kept = store
        .jobs_claim(JobsClaim {
            due_by: None,
            due_after: None,
            queues: vec!["keep".into()],
            limit: 1,
            worker: "w".into(),
            lease: SignedDuration::from_secs(30),
            now: Some(now),
        })
        .await
        .unwrap();
    store
        .jobs_complete(JobsComplete {
            completions: vec![JobCompletion {
                job_id: kept[0].job.id.clone(),
                held: Some(std::sync::Arc::new(kept[0].job.clone())),
                lease_token: kept[0].lease_token.clone(),
                completion: Completion::Dead,
                outcome: AttemptOutcome::Failed,
                error: Some("e".into()),
                output: None,
            }],
            now: Some(now),
        })
        .await
        .unwrap();
    let prune = |keep_before: Timestamp, occurrences_before: Timestamp| RetentionPrune {
        jobs_finished_before: secs(now, 1),
        queues_finished_before: vec![("keep".into(), keep_before)],
        occurrences_before,
        limit: 1000,
    };
    let counts = store
        .retention_prune(prune(secs(now, -3600), secs(store.now().await.unwrap(), 1)))
        .await
        .unwrap();
    assert_eq!((counts.jobs, counts.occurrences), (1, 1));
    assert!(
        store.jobs_get(&kept[0].job.id).await.unwrap().is_some(),
        "the queue's own cutoff keeps its job"
    );
    let counts = store
        .retention_prune(prune(secs(now, 1), secs(now, -3600)))
        .await
        .unwrap();
    assert_eq!((counts.jobs, counts.occurrences), (1, 0));
    assert_eq!(store.jobs_get(&kept[0].job.id).await.unwrap(), None);
    assert_eq!(store.jobs_get(&claimed[0].job.id).await.unwrap(), None);
    assert!(store
        .attempts_list(&claimed[0].job.id)
        .await
        .unwrap()
        .is_empty());
    for id in ids.iter().filter(|id| **id != claimed[0].job.id) {
        assert!(
            store.jobs_get(id).await.unwrap().is_some(),
            "unfinished job {id} was pruned"
        );
    }
    assert!(store
        .occurrences_list(OccurrencesList {
            schedule_id: s.id,
            before: None,
            limit: 10
        })
        .await
        .unwrap()
        .is_empty());
}

/// Retention after a finished job was retried or deleted: the retried one
/// stays until its new finish ages past the cutoff, the deleted one is not
/// counted, and a pass cut short by its limit resumes where it stopped.
pub async fn retention_follows_retried_and_deleted_jobs(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let mut jobs: Vec<NewJob> = (0..5).map(|_| new_job("r", t)).collect();
    for j in &mut jobs {
        j.job.max_attempts = 1;
    }
    store.jobs_enqueue(jobs).await.unwrap();
    let claim = |at: Timestamp| {
        store.jobs_claim(JobsClaim {
            due_by: None,
            due_after: None,
            queues: vec!["r".into()],
            limit: 10,
            worker: "w".into(),
            lease: SignedDuration::from_secs(30),
            now: Some(at),
        })
    };
    let finish = |claimed: &[chime_store::ClaimedJob], at: Timestamp| {
        store.jobs_complete(JobsComplete {
            completions: claimed.iter().map(|c| succeeded(c, true)).collect(),
            now: Some(at),
        })
    };
    let claimed = claim(t).await.unwrap();
    assert_eq!(claimed.len(), 5);
    // All five finish together, long before the cutoffs below.
    let applied = finish(&claimed, secs(t, -100)).await.unwrap();
    assert!(applied.iter().all(Result::is_ok));
    let ids: Vec<String> = claimed.iter().map(|c| c.job.id.clone()).collect();
    store.jobs_retry(&ids[0]).await.unwrap();
    assert!(store.jobs_delete(&ids[1]).await.unwrap());
    let prune = |before: Timestamp, limit: u32| {
        store.retention_prune(RetentionPrune {
            jobs_finished_before: before,
            queues_finished_before: Vec::new(),
            occurrences_before: secs(t, -3600),
            limit,
        })
    };
    for _ in 0..3 {
        assert_eq!(prune(secs(t, -50), 1).await.unwrap().jobs, 1);
    }
    assert_eq!(prune(secs(t, -50), 1000).await.unwrap().jobs, 0);
    for id in &ids[2..] {
        assert_eq!(store.jobs_get(id).await.unwrap(), None);
    }
    let retried = store.jobs_get(&ids[0]).await.unwrap().expect("kept");
    assert_eq!(retried.state, JobState::Pending);
    // Its second run finishes later and ages out on its own.
    let t2 = base(&store).await;
    let again = claim(secs(t2, 1)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert!(finish(&again, secs(t2, 2)).await.unwrap()[0].is_ok());
    assert_eq!(prune(secs(t2, 1), 1000).await.unwrap().jobs, 0);
    assert!(store.jobs_get(&ids[0]).await.unwrap().is_some());
    assert_eq!(prune(secs(t2, 3), 1000).await.unwrap().jobs, 1);
    assert_eq!(store.jobs_get(&ids[0]).await.unwrap(), None);
    let stats = store.queues_stats().await.unwrap();
    let r = stats.iter().find(|s| s.queue == "r");
    assert!(
        r.is_none_or(|s| s.succeeded + s.available + s.scheduled + s.running == 0),
        "{r:?}"
    );
}

pub async fn instances_register_expire_and_leave(store: Arc<dyn Store>) {
    let t0 = base(&store).await;
    let ttl = SignedDuration::from_secs(5);
    let beat = |id: &str, at: Timestamp| chime_store::InstanceBeat {
        id: id.into(),
        ttl,
        now: Some(at),
    };
    let ids = |live: Vec<chime_store::Instance>| -> Vec<String> {
        live.into_iter().map(|i| i.id).collect()
    };
    assert_eq!(
        ids(store.instances_beat(beat("b", t0)).await.unwrap()),
        ["b"]
    );
    let live = store.instances_beat(beat("a", t0)).await.unwrap();
    assert_eq!(ids(live.clone()), ["a", "b"], "sorted by id");
    assert_eq!(live[0].expires_at, secs(t0, 5));
    // a keeps beating; b stops and is gone once its entry expires.
    let live = store.instances_beat(beat("a", secs(t0, 3))).await.unwrap();
    assert_eq!(ids(live.clone()), ["a", "b"]);
    assert_eq!(live[0].started_at, t0, "a renewal keeps the start");
    let live = store.instances_beat(beat("a", secs(t0, 6))).await.unwrap();
    assert_eq!(ids(live), ["a"]);
    // b comes back: a fresh start.
    let live = store.instances_beat(beat("b", secs(t0, 7))).await.unwrap();
    assert_eq!(live[1].started_at, secs(t0, 7));
    // Leaving takes effect at once, not at expiry.
    store.instances_leave("a").await.unwrap();
    assert_eq!(
        ids(store.instances_beat(beat("b", secs(t0, 8))).await.unwrap()),
        ["b"]
    );
    // Listing reads without registering anyone.
    assert_eq!(ids(store.instances_list().await.unwrap()), ["b"]);
    store.instances_leave("b").await.unwrap();
    assert!(store.instances_list().await.unwrap().is_empty());
}

pub async fn tokens_are_found_by_hash_listed_and_deleted(store: Arc<dyn Store>) {
    use chime_core::model::Role;
    let t0 = base(&store).await;
    let create = |id: &str, role: Role, hash: &str, at: Timestamp| chime_store::TokenCreate {
        id: id.into(),
        name: format!("token {id}"),
        role,
        namespace: "default".into(),
        hash: hash.into(),
        now: Some(at),
    };
    let ops = store
        .tokens_create(create("t2", Role::Operator, "h-ops", secs(t0, 1)))
        .await
        .unwrap();
    assert_eq!((ops.role, ops.created_at), (Role::Operator, secs(t0, 1)));
    store
        .tokens_create(create("t1", Role::Read, "h-read", t0))
        .await
        .unwrap();
    let found = store
        .tokens_find("h-ops")
        .await
        .unwrap()
        .expect("found by hash");
    assert_eq!(found, ops);
    assert_eq!(store.tokens_find("h-nope").await.unwrap(), None);
    let listed: Vec<String> = store
        .tokens_list()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(listed, ["t1", "t2"], "oldest first");
    assert!(store.tokens_delete("t2").await.unwrap());
    assert!(!store.tokens_delete("t2").await.unwrap());
    assert_eq!(
        store.tokens_find("h-ops").await.unwrap(),
        None,
        "a deleted token no longer authenticates"
    );
    assert_eq!(store.tokens_list().await.unwrap().len(), 1);
}
