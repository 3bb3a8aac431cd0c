use super::*;
use chime_core::model::{AttemptOutcome, JobState};
use chime_store::{
    ClaimedJob, Completion, JobCompletion, JobsClaim, JobsComplete, JobsHeartbeat, JobsRescue,
    StoreError,
};
use std::collections::HashSet;

/// Claims up to `limit` jobs of `queues` at `now` as worker w1, leased for
/// `lease_s` seconds.
pub async fn claim(
    store: &Arc<dyn Store>,
    queues: &[&str],
    limit: u32,
    now: Timestamp,
    lease_s: i64,
) -> Vec<ClaimedJob> {
    store
        .jobs_claim(JobsClaim {
            due_by: None,
            due_after: None,
            queues: queues.iter().map(|q| q.to_string()).collect(),
            limit,
            worker: "w1".into(),
            lease: SignedDuration::from_secs(lease_s),
            now: Some(now),
        })
        .await
        .expect("claim")
}

async fn complete(
    store: &Arc<dyn Store>,
    c: &ClaimedJob,
    completion: Completion,
    outcome: AttemptOutcome,
    now: Timestamp,
) -> chime_store::Result<()> {
    let mut results = store
        .jobs_complete(JobsComplete {
            completions: vec![JobCompletion {
                job_id: c.job.id.clone(),
                lease_token: c.lease_token.clone(),
                completion,
                outcome,
                error: (outcome != AttemptOutcome::Succeeded).then(|| "boom".to_string()),
                output: None,
                held: Some(std::sync::Arc::new(c.job.clone())),
            }],
            now: Some(now),
        })
        .await
        .expect("complete");
    results.remove(0)
}

async fn rescue(store: &Arc<dyn Store>, now: Timestamp) -> Vec<String> {
    store
        .jobs_rescue(JobsRescue {
            limit: 10,
            now: Some(now),
        })
        .await
        .expect("rescue")
}

/// Extends `c`'s lease by 30 s at `now`.
async fn heartbeat(
    store: &Arc<dyn Store>,
    c: &ClaimedJob,
    now: Timestamp,
) -> chime_store::Result<Timestamp> {
    store
        .jobs_heartbeat(JobsHeartbeat {
            job_id: c.job.id.clone(),
            lease_token: c.lease_token.clone(),
            extend: SignedDuration::from_secs(30),
            now: Some(now),
        })
        .await
}

async fn enqueue(store: &Arc<dyn Store>, jobs: Vec<NewJob>) -> Vec<String> {
    store
        .jobs_enqueue(jobs)
        .await
        .expect("enqueue")
        .into_iter()
        .map(|e| e.id)
        .collect()
}

pub async fn claim_by_priority_then_run_at(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let mut jobs = Vec::new();
    for (priority, age) in [(0, 30), (5, 10), (0, 40), (5, 20), (-3, 50)] {
        let mut j = new_job("q", secs(t, -age));
        j.job.priority = priority;
        jobs.push(j);
    }
    jobs.push(new_job("q", secs(t, 30))); // not due yet
    jobs.push(new_job("other", secs(t, -100)));
    let ids = enqueue(&store, jobs).await;
    let got = claim(&store, &["q"], 10, t, 30).await;
    let order: Vec<&str> = got.iter().map(|c| c.job.id.as_str()).collect();
    assert_eq!(
        order,
        vec![&*ids[3], &*ids[1], &*ids[2], &*ids[0], &*ids[4]]
    );
    assert!(got
        .iter()
        .all(|c| c.job.state == JobState::Running && c.job.attempt == 1));
    // All queues: only the other queue's job is left that is due.
    let rest = claim(&store, &[], 10, t, 30).await;
    assert_eq!(
        rest.iter().map(|c| c.job.id.as_str()).collect::<Vec<_>>(),
        vec![&*ids[6]]
    );
    let later = claim(&store, &["q"], 10, secs(t, 30), 30).await;
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].job.id, ids[5]);
}

pub async fn never_the_same_job_to_two_claimers(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let jobs: Vec<NewJob> = (0..200).map(|i| new_job("q", secs(t, -i))).collect();
    let ids: HashSet<String> = enqueue(&store, jobs).await.into_iter().collect();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = claim(&store, &["q"], 5, t, 60).await;
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|c| c.job.id));
            }
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for task in tasks {
        for id in task.await.expect("claimer") {
            total += 1;
            assert!(seen.insert(id.clone()), "job {id} claimed twice");
        }
    }
    assert_eq!(total, 200);
    assert_eq!(seen, ids);
}

pub async fn expired_lease_is_claimable_again_and_counts(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let mut job = new_job("q", t);
    job.job.max_attempts = 2;
    job.job.backoff.initial_ms = 1000;
    job.job.backoff.max_ms = 1000;
    enqueue(&store, vec![job]).await;
    let first = claim(&store, &["q"], 1, t, 30).await.remove(0);
    // The running attempt is listed, still open.
    let open = store.attempts_list(&first.job.id).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].attempt, open[0].started_at), (1, t));
    assert_eq!((open[0].finished_at, open[0].outcome), (None, None));
    // Not expired yet.
    assert!(rescue(&store, secs(t, 29)).await.is_empty());
    let rescued = rescue(&store, secs(t, 31)).await;
    assert_eq!(rescued, vec![first.job.id.clone()]);
    let after = store.jobs_get(&first.job.id).await.unwrap().unwrap();
    assert_eq!((after.state, after.attempt), (JobState::Pending, 1));
    let attempts = store.attempts_list(&first.job.id).await.unwrap();
    assert_eq!(attempts[0].outcome, Some(AttemptOutcome::LeaseExpired));
    // Claimable again after the backoff; the second expiry makes it dead.
    let second = claim(&store, &["q"], 1, secs(t, 33), 30).await.remove(0);
    assert_eq!(second.job.attempt, 2);
    rescue(&store, secs(t, 64)).await;
    let dead = store.jobs_get(&first.job.id).await.unwrap().unwrap();
    assert_eq!(dead.state, JobState::Dead);
    assert_eq!(store.attempts_list(&first.job.id).await.unwrap().len(), 2);
}

pub async fn stale_lease_is_rejected(store: Arc<dyn Store>) {
    let t = base(&store).await;
    enqueue(&store, vec![new_job("q", t)]).await;
    let old = claim(&store, &["q"], 1, t, 10).await.remove(0);
    rescue(&store, secs(t, 11)).await;
    let new = claim(&store, &["q"], 1, secs(t, 20), 30).await.remove(0);
    assert_eq!(new.job.id, old.job.id);
    let hb = heartbeat(&store, &old, secs(t, 21)).await;
    assert!(matches!(hb, Err(StoreError::LeaseLost)), "{hb:?}");
    let done = complete(
        &store,
        &old,
        Completion::Succeeded,
        AttemptOutcome::Succeeded,
        secs(t, 21),
    )
    .await;
    assert!(matches!(done, Err(StoreError::LeaseLost)), "{done:?}");
    assert_eq!(
        store.jobs_get(&old.job.id).await.unwrap().unwrap().state,
        JobState::Running
    );
    // A completion that arrives after the lease expired is stale as well.
    let late = complete(
        &store,
        &new,
        Completion::Succeeded,
        AttemptOutcome::Succeeded,
        secs(t, 51),
    )
    .await;
    assert!(matches!(late, Err(StoreError::LeaseLost)), "{late:?}");
    complete(
        &store,
        &new,
        Completion::Succeeded,
        AttemptOutcome::Succeeded,
        secs(t, 49),
    )
    .await
    .expect("current lease");
    let job = store.jobs_get(&old.job.id).await.unwrap().unwrap();
    assert_eq!(
        (job.state, job.finished_at),
        (JobState::Succeeded, Some(secs(t, 49)))
    );
}

pub async fn heartbeat_extends_the_lease(store: Arc<dyn Store>) {
    let t = base(&store).await;
    enqueue(&store, vec![new_job("q", t)]).await;
    let c = claim(&store, &["q"], 1, t, 30).await.remove(0);
    assert_eq!(c.lease_expires_at, secs(t, 30));
    let until = heartbeat(&store, &c, secs(t, 20)).await.unwrap();
    assert_eq!(until, secs(t, 50));
    assert!(rescue(&store, secs(t, 40)).await.is_empty());
    assert_eq!(rescue(&store, secs(t, 51)).await.len(), 1);
}

/// Jobs claimed together keep their leases apart: a heartbeat extends its
/// own job only, the rest of the claim expires on time, and a completion
/// of either still needs its job's lease live.
pub async fn a_claims_jobs_keep_their_own_leases(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let ids = enqueue(
        &store,
        vec![
            new_job("q", secs(t, -3)),
            new_job("q", secs(t, -2)),
            new_job("q", secs(t, -1)),
        ],
    )
    .await;
    let got = claim(&store, &["q"], 3, t, 30).await;
    assert_eq!(
        ids_of(&got),
        ids.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let [kept, left, done] = &got[..] else {
        panic!("{got:?}")
    };
    assert_eq!(
        heartbeat(&store, kept, secs(t, 20)).await.unwrap(),
        secs(t, 50)
    );
    complete(
        &store,
        done,
        Completion::Succeeded,
        AttemptOutcome::Succeeded,
        secs(t, 25),
    )
    .await
    .expect("done under the claim's lease");
    assert!(rescue(&store, secs(t, 29)).await.is_empty());
    // The claim's lease ends for the job no heartbeat kept.
    assert_eq!(rescue(&store, secs(t, 31)).await, vec![left.job.id.clone()]);
    let late = complete(
        &store,
        left,
        Completion::Succeeded,
        AttemptOutcome::Succeeded,
        secs(t, 32),
    )
    .await;
    assert!(matches!(late, Err(StoreError::LeaseLost)), "{late:?}");
    let running = store.jobs_get(&kept.job.id).await.unwrap().unwrap();
    assert_eq!(
        (running.state, running.lease_expires_at),
        (JobState::Running, Some(secs(t, 50)))
    );
    // A second heartbeat extends the job's own lease again.
    assert_eq!(
        heartbeat(&store, kept, secs(t, 45)).await.unwrap(),
        secs(t, 75)
    );
    assert!(rescue(&store, secs(t, 60)).await.is_empty());
    complete(
        &store,
        kept,
        Completion::Succeeded,
        AttemptOutcome::Succeeded,
        secs(t, 70),
    )
    .await
    .expect("done under its own lease");
    assert!(rescue(&store, secs(t, 100)).await.is_empty());
    let attempts = store.attempts_list(&kept.job.id).await.unwrap();
    assert_eq!(
        attempts
            .iter()
            .map(|a| (a.attempt, a.started_at, a.finished_at))
            .collect::<Vec<_>>(),
        vec![(1, t, Some(secs(t, 70)))]
    );
}

pub async fn retry_waits_for_backoff(store: Arc<dyn Store>) {
    let t = base(&store).await;
    enqueue(&store, vec![new_job("q", t)]).await;
    let c = claim(&store, &["q"], 1, t, 30).await.remove(0);
    complete(
        &store,
        &c,
        Completion::Retry { at: secs(t, 5) },
        AttemptOutcome::Failed,
        secs(t, 1),
    )
    .await
    .unwrap();
    let job = store.jobs_get(&c.job.id).await.unwrap().unwrap();
    assert_eq!(
        (job.state, job.run_at, job.last_error.as_deref()),
        (JobState::Pending, secs(t, 5), Some("boom"))
    );
    assert!(claim(&store, &["q"], 1, secs(t, 4), 30).await.is_empty());
    let again = claim(&store, &["q"], 1, secs(t, 5), 30).await;
    assert_eq!(again[0].job.attempt, 2);
    let attempts = store.attempts_list(&c.job.id).await.unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(
        (attempts[0].outcome, attempts[0].error.as_deref()),
        (Some(AttemptOutcome::Failed), Some("boom"))
    );
    assert_eq!(attempts[1].outcome, None);
}

pub async fn dead_after_max_attempts(store: Arc<dyn Store>) {
    let t = base(&store).await;
    enqueue(&store, vec![new_job("q", t)]).await;
    let c = claim(&store, &["q"], 1, t, 30).await.remove(0);
    complete(
        &store,
        &c,
        Completion::Dead,
        AttemptOutcome::TimedOut,
        secs(t, 2),
    )
    .await
    .unwrap();
    let job = store.jobs_get(&c.job.id).await.unwrap().unwrap();
    assert_eq!(
        (job.state, job.finished_at),
        (JobState::Dead, Some(secs(t, 2)))
    );
    assert!(claim(&store, &["q"], 1, secs(t, 100), 30).await.is_empty());
    let attempts = store.attempts_list(&c.job.id).await.unwrap();
    assert_eq!(attempts[0].outcome, Some(AttemptOutcome::TimedOut));
}

pub async fn cancel_pending_and_running(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let ids = enqueue(&store, vec![new_job("q", secs(t, 60)), new_job("q", t)]).await;
    let pending = store.jobs_cancel(&ids[0]).await.unwrap();
    assert_eq!(pending.state, JobState::Cancelled);
    let c = claim(&store, &["q"], 1, t, 30).await.remove(0);
    assert_eq!(c.job.id, ids[1]);
    store.jobs_cancel(&ids[1]).await.unwrap();
    // The running worker finds out at its next heartbeat.
    let hb = heartbeat(&store, &c, secs(t, 1)).await;
    assert!(matches!(hb, Err(StoreError::LeaseLost)));
    let attempts = store.attempts_list(&ids[1]).await.unwrap();
    assert_eq!(attempts[0].outcome, Some(AttemptOutcome::Cancelled));
    assert!(matches!(
        store.jobs_cancel(&ids[1]).await,
        Err(StoreError::InvalidState(_))
    ));
    assert!(matches!(
        store.jobs_cancel(&new_id()).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn retry_and_delete_finished_jobs(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let mut job = new_job("q", t);
    job.job.max_attempts = 1;
    let id = enqueue(&store, vec![job]).await.remove(0);
    assert!(matches!(
        store.jobs_retry(&id).await,
        Err(StoreError::InvalidState(_))
    ));
    let c = claim(&store, &["q"], 1, t, 30).await.remove(0);
    assert!(matches!(
        store.jobs_delete(&id).await,
        Err(StoreError::InvalidState(_))
    ));
    complete(&store, &c, Completion::Dead, AttemptOutcome::Failed, t)
        .await
        .unwrap();
    let dead = store.jobs_get(&id).await.unwrap().unwrap();
    assert_eq!(
        (
            dead.state,
            dead.last_error.as_deref(),
            dead.lease_expires_at
        ),
        (JobState::Dead, Some("boom"), None)
    );
    let retried = store.jobs_retry(&id).await.unwrap();
    assert_eq!(
        (retried.state, retried.job.max_attempts),
        (JobState::Pending, 2)
    );
    let t2 = base(&store).await;
    let again = claim(&store, &["q"], 1, secs(t2, 1), 30).await;
    assert_eq!(again[0].job.attempt, 2);
    let applied = store
        .jobs_complete(JobsComplete {
            completions: vec![JobCompletion {
                job_id: id.clone(),
                lease_token: again[0].lease_token.clone(),
                completion: Completion::Succeeded,
                outcome: AttemptOutcome::Succeeded,
                error: None,
                output: Some("all done".into()),
                held: None,
            }],
            now: Some(secs(t2, 2)),
        })
        .await
        .unwrap();
    assert!(applied[0].is_ok());
    // The run after the retry clears the failure but keeps both attempts.
    let done = store.jobs_get(&id).await.unwrap().unwrap();
    assert_eq!(
        (done.state, done.last_error, done.lease_expires_at),
        (JobState::Succeeded, None, None)
    );
    assert_eq!(done.finished_at, Some(secs(t2, 2)));
    let attempts = store.attempts_list(&id).await.unwrap();
    let seen: Vec<_> = attempts
        .iter()
        .map(|a| {
            (
                a.attempt,
                a.worker.as_str(),
                a.started_at,
                a.finished_at,
                a.outcome,
                a.error.as_deref(),
                a.output.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                1,
                "w1",
                t,
                Some(t),
                Some(AttemptOutcome::Failed),
                Some("boom"),
                None
            ),
            (
                2,
                "w1",
                secs(t2, 1),
                Some(secs(t2, 2)),
                Some(AttemptOutcome::Succeeded),
                None,
                Some("all done")
            ),
        ]
    );
    assert!(store.jobs_delete(&id).await.unwrap());
    assert_eq!(store.jobs_get(&id).await.unwrap(), None);
    assert!(store.attempts_list(&id).await.unwrap().is_empty());
    assert!(!store.jobs_delete(&id).await.unwrap());
}

pub async fn unique_keys_dedupe_while_active(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let keyed = || NewJob {
        unique_key: Some("invoice-42".into()),
        ..new_job("q", t)
    };
    let first = store.jobs_enqueue(vec![keyed()]).await.unwrap().remove(0);
    let second = store.jobs_enqueue(vec![keyed()]).await.unwrap().remove(0);
    assert!(!first.duplicate && second.duplicate);
    assert_eq!(second.id, first.id);
    let c = claim(&store, &["q"], 1, t, 30).await.remove(0);
    assert!(
        store.jobs_enqueue(vec![keyed()]).await.unwrap()[0].duplicate,
        "running still counts"
    );
    complete(
        &store,
        &c,
        Completion::Succeeded,
        AttemptOutcome::Succeeded,
        t,
    )
    .await
    .unwrap();
    let third = store.jobs_enqueue(vec![keyed()]).await.unwrap().remove(0);
    assert!(!third.duplicate && third.id != first.id);
}

/// Claims as worker w1 at `now` (leased 30 s) the jobs of `queues` due by
/// `due_by` and, with `due_after`, only those due after it.
async fn claim_window(
    store: &Arc<dyn Store>,
    queues: &[&str],
    due_after: Option<Timestamp>,
    due_by: Timestamp,
    limit: u32,
    now: Timestamp,
) -> Vec<ClaimedJob> {
    store
        .jobs_claim(JobsClaim {
            queues: queues.iter().map(|q| q.to_string()).collect(),
            due_by: Some(due_by),
            due_after,
            limit,
            worker: "w1".into(),
            lease: SignedDuration::from_secs(30),
            now: Some(now),
        })
        .await
        .expect("claim")
}

fn ids_of(claimed: &[ClaimedJob]) -> Vec<&str> {
    claimed.iter().map(|c| c.job.id.as_str()).collect()
}

pub async fn claim_ahead_takes_only_jobs_due_soon(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let ids = enqueue(
        &store,
        vec![new_job("q", secs(t, 1)), new_job("q", secs(t, 10))],
    )
    .await;
    let got = claim_window(&store, &["q"], None, secs(t, 2), 10, t).await;
    assert_eq!(ids_of(&got), vec![ids[0].as_str()]);
    // The lease runs from the claim, not from the job's run_at.
    assert_eq!(got[0].lease_expires_at, secs(t, 30));
    assert_eq!(got[0].job.run_at, secs(t, 1));
}

/// A claim with `due_after` (a worker claiming ahead of its free slots)
/// takes only jobs not yet due, earliest first whatever their priority,
/// from one queue or merged across queues; the jobs it leaves, due or
/// later, are claimed once each afterwards.
pub async fn claim_early_takes_only_jobs_not_yet_due(store: Arc<dyn Store>) {
    let t = base(&store).await;
    // Tens of seconds apart: Redis files a job as due or delayed by its
    // own clock at enqueue, which a slow run must not overtake.
    let mut urgent = new_job("q", secs(t, 30));
    urgent.job.priority = 9;
    let ids = enqueue(
        &store,
        vec![
            new_job("q", t),
            new_job("q", secs(t, 20)),
            urgent,
            new_job("q", secs(t, 40)),
            new_job("q", secs(t, 100)),
            new_job("other", secs(t, 10)),
        ],
    )
    .await;
    let [due, soon, urgent, last, far, other] = [0, 1, 2, 3, 4, 5].map(|i| ids[i].as_str());
    let window = |queues: &'static [&'static str], limit| {
        claim_window(&store, queues, Some(t), secs(t, 50), limit, t)
    };
    let early = window(&["q"], 2).await;
    assert_eq!(ids_of(&early), vec![soon, urgent]);
    assert!(early.iter().all(|c| c.job.state == JobState::Running));
    assert_eq!(early[0].lease_expires_at, secs(t, 30));
    assert_eq!(ids_of(&window(&[], 1).await), vec![other]);
    assert_eq!(ids_of(&window(&[], 10).await), vec![last]);
    assert!(window(&[], 10).await.is_empty());
    assert_eq!(ids_of(&claim(&store, &[], 10, t, 30).await), vec![due]);
    let rest = claim(&store, &[], 10, secs(t, 200), 30).await;
    assert_eq!(ids_of(&rest), vec![far]);
}

/// Every field of a job reads back as written, whether at the template's
/// defaults (which a store may leave unstored) or not, through get, list
/// and claim.
pub async fn jobs_read_back_as_written(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let plain = new_job("q", secs(t, 1));
    let mut custom = new_job("q", secs(t, 2));
    custom.namespace = "team-a".into();
    custom.unique_key = Some("u-1".into());
    custom.job.payload = serde_json::json!({"account": 7, "note": null});
    custom.job.priority = -5;
    custom.job.max_attempts = 9;
    custom.job.timeout_ms = 1234;
    custom.job.backoff.initial_ms = 10;
    custom.job.backoff.max_ms = 20;
    custom.job.target = Some(chime_core::model::Target::Http(
        serde_json::from_value(serde_json::json!({"url": "https://example.com/h"})).unwrap(),
    ));
    // At the defaults' values but written out: read back the same.
    let mut zeroes = new_job("q", secs(t, 3));
    zeroes.job.payload = serde_json::json!(0);
    zeroes.job.max_attempts = 1;
    let written = vec![plain, custom, zeroes];
    enqueue(&store, written.clone()).await;
    let same = |job: &chime_core::model::Job, new: &NewJob| {
        assert_eq!(job.id, new.id);
        assert_eq!(job.namespace, new.namespace, "{}", new.id);
        assert_eq!(job.job, new.job, "{}", new.id);
        assert_eq!(job.run_at, new.run_at);
        assert_eq!(job.unique_key, new.unique_key);
    };
    for new in &written {
        let got = store.jobs_get(&new.id).await.unwrap().expect("stored");
        same(&got, new);
        assert_eq!(got.attempt, 0);
        assert_eq!(got.state, JobState::Pending);
    }
    let listed = store
        .jobs_list(chime_store::JobsList {
            namespace: Some("team-a".into()),
            queue: None,
            state: None,
            schedule_id: None,
            before_id: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    same(&listed[0], &written[1]);
    let claimed = claim(&store, &["q"], 10, secs(t, 5), 30).await;
    // Priority first: -5 runs after the two at 0.
    let order: Vec<&str> = claimed.iter().map(|c| c.job.id.as_str()).collect();
    let want: Vec<&str> = [0, 2, 1].iter().map(|&i| written[i].id.as_str()).collect();
    assert_eq!(order, want);
    for (c, &i) in claimed.iter().zip(&[0, 2, 1]) {
        same(&c.job, &written[i]);
        assert_eq!(c.job.attempt, 1);
    }
}

/// Jobs due when enqueued and jobs that became due later share one claim
/// order: priority, then run_at.
pub async fn claim_order_is_one_for_jobs_due_now_and_later(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let job = |priority: i32, at: i64| {
        let mut j = new_job("q", secs(t, at));
        j.job.priority = priority;
        j
    };
    // Due at enqueue: the first two; due only later: the last two.
    let ids = enqueue(
        &store,
        vec![job(0, -10), job(5, -5), job(5, 20), job(0, 20)],
    )
    .await;
    let got = claim(&store, &["q"], 10, secs(t, 30), 30).await;
    let order: Vec<&str> = got.iter().map(|c| c.job.id.as_str()).collect();
    assert_eq!(order, vec![&*ids[1], &*ids[2], &*ids[0], &*ids[3]]);
}

/// A claim over several queues takes their jobs in one order (priority,
/// then run_at), as if they were one queue.
pub async fn claim_across_queues_merges_their_orders(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let job = |queue: &str, priority: i32, at: i64| {
        let mut j = new_job(queue, secs(t, at));
        j.job.priority = priority;
        j
    };
    let ids = enqueue(
        &store,
        vec![
            job("a", 0, -50),
            job("b", 0, -40),
            job("a", 0, -30),
            job("b", 7, -1),
            job("a", -2, -60),
            job("b", 0, -45),
            job("c", 9, -100),
        ],
    )
    .await;
    let got = claim(&store, &["a", "b"], 5, t, 30).await;
    let order: Vec<&str> = got.iter().map(|c| c.job.id.as_str()).collect();
    assert_eq!(
        order,
        vec![&*ids[3], &*ids[0], &*ids[5], &*ids[1], &*ids[2]]
    );
    let rest = claim(&store, &["a", "b"], 5, t, 30).await;
    assert_eq!(
        rest.iter().map(|c| c.job.id.as_str()).collect::<Vec<_>>(),
        vec![&*ids[4]]
    );
}

/// An attempt's error and output read back as written: an empty text
/// stays empty, apart from none.
pub async fn attempt_texts_read_back_exactly(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let mut j = new_job("q", secs(t, -1));
    j.job.max_attempts = 2;
    let id = enqueue(&store, vec![j]).await.remove(0);
    let texts = [
        (Some(String::new()), Some("line one\n\"two\" ✓".to_string())),
        (Some("=starts with =".to_string()), Some(String::new())),
    ];
    for (i, (error, output)) in texts.iter().enumerate() {
        let now = secs(t, 10 * i as i64);
        let c = claim(&store, &["q"], 1, now, 30).await.remove(0);
        let completion = if i == 0 {
            Completion::Retry { at: now }
        } else {
            Completion::Dead
        };
        let applied = store
            .jobs_complete(JobsComplete {
                completions: vec![JobCompletion {
                    job_id: c.job.id.clone(),
                    lease_token: c.lease_token.clone(),
                    completion,
                    outcome: AttemptOutcome::Failed,
                    error: error.clone(),
                    output: output.clone(),
                    held: Some(std::sync::Arc::new(c.job.clone())),
                }],
                now: Some(secs(now, 1)),
            })
            .await
            .unwrap();
        assert!(applied[0].is_ok());
    }
    let attempts = store.attempts_list(&id).await.unwrap();
    let seen: Vec<_> = attempts
        .iter()
        .map(|a| (a.error.clone(), a.output.clone()))
        .collect();
    assert_eq!(seen, texts.to_vec());
    let job = store.jobs_get(&id).await.unwrap().unwrap();
    assert_eq!(
        (job.state, job.last_error.as_deref()),
        (JobState::Dead, Some("=starts with ="))
    );
}
