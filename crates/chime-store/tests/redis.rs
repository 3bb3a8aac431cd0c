//! The conformance suite against the real Redis, one key prefix per test.

mod conformance;

use chime_store::redis::RedisStore;
use chime_testkit::RedisSpace;
use conformance::TestStore;
use std::sync::Arc;

async fn redis() -> TestStore {
    let space = RedisSpace::create();
    let store = RedisStore::open(&space.url)
        .await
        .expect("Redis must be running (scripts/services starts it)");
    TestStore {
        store: Arc::new(store),
        _guard: Box::new(space),
    }
}

conformance_suite!(redis);

#[tokio::test]
async fn changes_are_announced_by_schedule_id() {
    let t = redis().await;
    conformance::schedules::changes_are_announced_by_schedule_id(t.store.clone()).await;
}

/// A filtered job list examines the job list a slice at a time (3 ids
/// here, over several script calls) and still returns every match, newest
/// first, page after page.
#[tokio::test]
async fn filtered_job_lists_span_slices() {
    use chime_store::{JobsList, Store};
    let space = RedisSpace::create();
    let store = RedisStore::open(&space.url)
        .await
        .expect("Redis must be running (scripts/services starts it)")
        .with_list_slice(3);
    let t = jiff::Timestamp::now();
    let jobs: Vec<_> = (0..10)
        .map(|i| conformance::new_job(if i % 3 == 0 { "rare" } else { "busy" }, t))
        .collect();
    store.jobs_enqueue(jobs.clone()).await.expect("enqueue");
    let rare: Vec<String> = jobs
        .iter()
        .rev()
        .filter(|j| j.job.queue == "rare")
        .map(|j| j.id.clone())
        .collect();
    assert_eq!(rare.len(), 4);
    let page = |before_id: Option<String>| JobsList {
        namespace: None,
        queue: Some("rare".into()),
        state: None,
        schedule_id: None,
        before_id,
        limit: 2,
    };
    let ids =
        |jobs: Vec<chime_core::model::Job>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    let first = ids(store.jobs_list(page(None)).await.expect("list"));
    assert_eq!(first, rare[..2]);
    let second = ids(store
        .jobs_list(page(first.last().cloned()))
        .await
        .expect("list"));
    assert_eq!(second, rare[2..]);
    let none = store
        .jobs_list(page(second.last().cloned()))
        .await
        .expect("list");
    assert!(none.is_empty());
}

/// A store on a fresh key space, and a plain connection to write records
/// as older versions of chime laid them out.
async fn raw_access() -> (
    RedisSpace,
    Arc<dyn chime_store::Store>,
    redis::aio::MultiplexedConnection,
) {
    let space = RedisSpace::create();
    let store = RedisStore::open(&space.url)
        .await
        .expect("Redis must be running (scripts/services starts it)");
    let conn = redis::Client::open(chime_testkit::redis_url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    (space, Arc::new(store), conn)
}

/// A schedule stored as a JSON record (the layout before the numeric
/// header) still reads, reloads and fires the same; its first fire
/// rewrites it in the current layout.
#[tokio::test]
async fn schedules_in_the_json_layout_still_read_and_fire() {
    use chime_core::model::{new_id, Overlap};
    use chime_store::{
        FireBatch, FireResult, NewOccurrence, ScheduleCreate, ScheduleFire, SchedulesDue,
    };
    let (space, store, mut conn) = raw_access().await;
    let t = conformance::base(&store).await;
    let created = store
        .schedules_create(ScheduleCreate {
            id: new_id(),
            spec: conformance::spec("legacy"),
            bucket: 3,
            next_fire_at: Some(t),
            now: None,
        })
        .await
        .expect("create");
    let key = format!("{{{}}}:s:{}", space.prefix, created.id);
    let raw: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("record");
    let (_, spec) = raw.split_once('|').expect("the current layout");
    let legacy = serde_json::json!({
        "b": 3, "s": spec, "p": 0, "v": 1, "n": t.as_millisecond(),
        "c": created.created_at.as_millisecond(), "u": created.updated_at.as_millisecond(),
    });
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg(legacy.to_string())
        .query_async(&mut conn)
        .await
        .expect("write the old layout");

    assert_eq!(
        store.schedules_get(&created.id).await.expect("get"),
        Some(created.clone())
    );
    let due = store
        .schedules_due(SchedulesDue {
            buckets: vec![3],
            until: t,
            limit: 10,
        })
        .await
        .expect("due");
    assert_eq!(due, vec![created.clone()]);

    let epoch = conformance::lease(&store, conformance::OWNER, 3, t).await;
    let next = conformance::secs(t, 60);
    let job = chime_store::NewJob {
        schedule_id: Some(created.id.clone()),
        scheduled_for: Some(t),
        ..conformance::new_job("q", t)
    };
    let results = store
        .fire(FireBatch {
            owner: conformance::OWNER.into(),
            fires: vec![ScheduleFire {
                schedule_id: created.id.clone(),
                bucket: 3,
                epoch,
                expected_next_fire_at: t,
                expected_version: 1,
                next_fire_at: Some(next),
                overlap: Overlap::Allow,
                occurrences: vec![NewOccurrence::fired(t, job)],
            }],
            now: Some(t),
        })
        .await
        .expect("fire");
    assert!(
        matches!(&results[0], FireResult::Applied { job_ids, .. } if job_ids.len() == 1),
        "{results:?}"
    );
    let after = store
        .schedules_get(&created.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(
        (after.next_fire_at, &after.spec, after.version),
        (Some(next), &created.spec, 1)
    );
    let raw: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("record");
    assert!(
        raw.starts_with("3,0,1,"),
        "rewritten in the current layout: {raw}"
    );
}

/// A job claimed before jobs carried their running attempt has it open in
/// its attempts hash instead: it lists as open, and its completion closes
/// it there.
#[tokio::test]
async fn attempts_opened_in_the_old_layout_still_close() {
    use chime_core::model::{AttemptOutcome, JobState};
    use chime_store::{Completion, JobCompletion, JobsComplete};
    let (space, store, mut conn) = raw_access().await;
    let t = conformance::base(&store).await;
    let job = conformance::new_job("q", conformance::secs(t, -1));
    store
        .jobs_enqueue(vec![job.clone()])
        .await
        .expect("enqueue");
    let claimed = conformance::jobs::claim(&store, &["q"], 1, t, 30)
        .await
        .remove(0);
    // The old layout: the attempt's start in the attempts hash, not the job.
    let key = |kind: &str| format!("{{{}}}:{kind}:{}", space.prefix, job.id);
    let _: () = redis::pipe()
        .cmd("HDEL")
        .arg(key("j"))
        .arg("started_at")
        .cmd("HSET")
        .arg(key("a"))
        .arg("1")
        .arg(format!(
            r#"{{"worker":"w1","started_at":{}}}"#,
            t.as_millisecond()
        ))
        .query_async(&mut conn)
        .await
        .expect("write the old layout");

    let open = store.attempts_list(&job.id).await.expect("attempts");
    assert_eq!(
        open.iter()
            .map(|a| (a.attempt, a.started_at, a.finished_at))
            .collect::<Vec<_>>(),
        vec![(1, t, None)]
    );
    let applied = store
        .jobs_complete(JobsComplete {
            completions: vec![JobCompletion {
                job_id: job.id.clone(),
                lease_token: claimed.lease_token.clone(),
                completion: Completion::Succeeded,
                outcome: AttemptOutcome::Succeeded,
                error: None,
                output: Some("done".into()),
            }],
            now: Some(conformance::secs(t, 1)),
        })
        .await
        .expect("complete");
    assert!(applied[0].is_ok());
    let closed = store.attempts_list(&job.id).await.expect("attempts");
    assert_eq!(
        closed
            .iter()
            .map(|a| (
                a.attempt,
                a.worker.as_str(),
                a.started_at,
                a.finished_at,
                a.outcome,
                a.output.as_deref()
            ))
            .collect::<Vec<_>>(),
        vec![(
            1,
            "w1",
            t,
            Some(conformance::secs(t, 1)),
            Some(AttemptOutcome::Succeeded),
            Some("done")
        )]
    );
    let done = store.jobs_get(&job.id).await.expect("get").expect("kept");
    assert_eq!(done.state, JobState::Succeeded);
}
