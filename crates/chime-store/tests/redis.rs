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

/// The scripts live in a function library named for their code: opening a
/// store deletes another version's library, and a store whose library
/// Redis lost (restarted without persistence, flushed) loads it again at
/// its next call.
#[tokio::test]
async fn the_function_library_is_replaced_and_reloaded() {
    let (space, store, mut conn) = raw_access().await;
    let other = "chime_0000000000000000";
    let _: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg("REPLACE")
        .arg(format!(
            "#!lua name={other}\nredis.register_function('{other}_x', function() return 1 end)"
        ))
        .query_async(&mut conn)
        .await
        .expect("load another version's library");
    let store2: Arc<dyn chime_store::Store> =
        Arc::new(RedisStore::open(&space.url).await.expect("reopen"));
    let listed: redis::Value = redis::cmd("FUNCTION")
        .arg("LIST")
        .arg("LIBRARYNAME")
        .arg(other)
        .query_async(&mut conn)
        .await
        .expect("list");
    assert_eq!(listed, redis::Value::Array(Vec::new()), "{other} was kept");

    // Every chime library gone, as after a restart without persistence.
    let _: () = redis::cmd("FUNCTION")
        .arg("FLUSH")
        .query_async(&mut conn)
        .await
        .expect("flush");
    let t = conformance::base(&store).await;
    let ids = store
        .jobs_enqueue(vec![conformance::new_job("q", t)])
        .await
        .expect("enqueue after the library was lost");
    let got = store2.jobs_get(&ids[0].id).await.expect("get");
    assert_eq!(got.map(|j| j.job.queue), Some("q".to_string()));
}

/// A queue's finished index as earlier versions kept it (a sorted set by
/// finish time) becomes its finished list when a store opens, in more than
/// one page: oldest first, each id after a mark of its time, so retention
/// removes the same jobs it would have.
#[tokio::test]
async fn finished_indexes_move_to_lists_when_a_store_opens() {
    use chime_store::{JobsComplete, RetentionPrune};
    let (space, store, mut conn) = raw_access().await;
    let t = conformance::base(&store).await;
    let key = |parts: &str| format!("{{{}}}:{parts}", space.prefix);
    let at = |s: i64| conformance::secs(t, s).as_millisecond();
    store
        .jobs_enqueue(vec![conformance::new_job("q", t)])
        .await
        .expect("enqueue");
    let c = conformance::jobs::claim(&store, &["q"], 1, t, 30)
        .await
        .remove(0);
    let applied = store
        .jobs_complete(JobsComplete {
            completions: vec![conformance::succeeded(&c, false)],
            now: Some(conformance::secs(t, -30)),
        })
        .await
        .expect("complete");
    assert!(applied[0].is_ok());
    // The old index: the real job among 6,000 ids of jobs long gone, at
    // three times, the oldest split across the migration's pages.
    let mut old: Vec<(i64, String)> = (0..6000)
        .map(|i| {
            let s = match i {
                0..1500 => -30,
                1500..4000 => -25,
                _ => -20,
            };
            (at(s), format!("x{i:05}"))
        })
        .collect();
    old.push((at(-30), c.job.id.clone()));
    let mut zadd = redis::cmd("ZADD");
    zadd.arg(key("fin:q"));
    for (score, id) in &old {
        zadd.arg(score).arg(id);
    }
    let _: () = redis::pipe()
        .cmd("DEL")
        .arg(key("fl:q"))
        .ignore()
        .add_command(zadd)
        .ignore()
        .cmd("SET")
        .arg(key("layout"))
        .arg("job-records")
        .ignore()
        .query_async(&mut conn)
        .await
        .expect("write the old layout");

    let store: Arc<dyn chime_store::Store> =
        Arc::new(RedisStore::open(&space.url).await.expect("reopen"));
    let (gone, layout): (bool, String) = redis::pipe()
        .exists(key("fin:q"))
        .get(key("layout"))
        .query_async(&mut conn)
        .await
        .expect("read");
    assert_eq!((gone, layout.as_str()), (false, "finished-lists"));
    let list: Vec<String> = redis::cmd("LRANGE")
        .arg(key("fl:q"))
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .expect("list");
    assert!(list[0].starts_with('@'), "{:?}", &list[..3]);
    let mut read = Vec::new();
    let mut mark = 0;
    for e in &list {
        match e.strip_prefix('@') {
            Some(m) => mark = m.parse().expect("mark"),
            None => read.push((mark, e.clone())),
        }
    }
    // ZADD orders equal times by id, as the old index did.
    old.sort();
    assert_eq!(read, old);
    // Retention reaches the real job, passing the ids of jobs gone.
    let prune = |before: i64| RetentionPrune {
        jobs_finished_before: conformance::secs(t, before),
        queues_finished_before: Vec::new(),
        occurrences_before: conformance::secs(t, -3600),
        limit: 5000,
    };
    assert_eq!(
        store.retention_prune(prune(-22)).await.expect("prune").jobs,
        1
    );
    assert_eq!(store.jobs_get(&c.job.id).await.expect("get"), None);
    let head: Vec<String> = redis::cmd("LRANGE")
        .arg(key("fl:q"))
        .arg(0)
        .arg(0)
        .query_async(&mut conn)
        .await
        .expect("head");
    assert_eq!(head, vec![format!("@{}", at(-20))]);
}

/// Schedules stored by earlier versions (a string key per schedule, as a
/// JSON object or a numeric header and the spec; listed and indexed by
/// id) move into today's layout when a store opens: they read, list,
/// reload and fire the same, and the old keys are gone.
#[tokio::test]
async fn schedules_in_earlier_layouts_move_when_a_store_opens() {
    use chime_core::model::{new_id, Overlap, Schedule};
    use chime_store::{
        FireBatch, FireResult, NewOccurrence, ScheduleFire, ScheduleList, SchedulesDue,
    };
    let (space, store, mut conn) = raw_access().await;
    let t = conformance::base(&store).await;
    let key = |parts: &str| format!("{{{}}}:{parts}", space.prefix);
    let mut spec = conformance::spec("header layout");
    spec.job.payload = serde_json::json!({"account": 7});
    let header = Schedule {
        id: new_id(),
        spec,
        version: 3,
        next_fire_at: Some(t),
        created_at: conformance::secs(t, -100),
        updated_at: conformance::secs(t, -50),
    };
    let json_layout = Schedule {
        id: "file:nightly".into(),
        spec: conformance::spec("json layout"),
        version: 1,
        next_fire_at: Some(conformance::secs(t, 30)),
        created_at: conformance::secs(t, -10),
        updated_at: conformance::secs(t, -10),
    };
    let ms = |t: jiff::Timestamp| t.as_millisecond();
    let spec_text = |s: &Schedule| serde_json::to_string(&s.spec).expect("spec");
    let header_raw = format!(
        "3,0,3,{},{},{}|{}",
        ms(t),
        ms(header.created_at),
        ms(header.updated_at),
        spec_text(&header)
    );
    let json_raw = serde_json::json!({
        "b": 3, "s": spec_text(&json_layout), "p": 0, "v": 1, "n": ms(conformance::secs(t, 30)),
        "c": ms(json_layout.created_at), "u": ms(json_layout.updated_at),
    })
    .to_string();
    let _: () = redis::pipe()
        .cmd("SET")
        .arg(key(&format!("s:{}", header.id)))
        .arg(&header_raw)
        .ignore()
        .cmd("SET")
        .arg(key("s:file:nightly"))
        .arg(&json_raw)
        .ignore()
        .cmd("ZADD")
        .arg(key("sl:3"))
        .arg(0)
        .arg(&header.id)
        .ignore()
        .cmd("SADD")
        .arg(key("sl"))
        .arg(3)
        .ignore()
        .cmd("ZADD")
        .arg(key("sched"))
        .arg(0)
        .arg("file:nightly")
        .ignore()
        .cmd("ZADD")
        .arg(key("due:3"))
        .arg(ms(t))
        .arg(&header.id)
        .ignore()
        .cmd("ZADD")
        .arg(key("due:3"))
        .arg(ms(conformance::secs(t, 30)))
        .arg("file:nightly")
        .ignore()
        .cmd("DEL")
        .arg(key("layout"))
        .ignore()
        .query_async(&mut conn)
        .await
        .expect("write the earlier layouts");

    let store: Arc<dyn chime_store::Store> =
        Arc::new(RedisStore::open(&space.url).await.expect("open and move"));
    let old_keys: Vec<String> = redis::cmd("KEYS")
        .arg(key("s:*"))
        .query_async(&mut conn)
        .await
        .expect("keys");
    assert!(old_keys.is_empty(), "{old_keys:?}");
    for s in [&header, &json_layout] {
        assert_eq!(
            store.schedules_get(&s.id).await.expect("get").as_ref(),
            Some(s)
        );
    }
    let listed = store
        .schedules_list(ScheduleList {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(listed, vec![header.clone(), json_layout.clone()]);
    let due = store
        .schedules_due(SchedulesDue {
            buckets: vec![3],
            until: t,
            limit: 10,
        })
        .await
        .expect("due");
    assert_eq!(due, vec![header.clone()]);

    let epoch = conformance::lease(&store, conformance::OWNER, 3, t).await;
    let next = conformance::secs(t, 60);
    let job = chime_store::NewJob {
        schedule_id: Some(header.id.clone()),
        scheduled_for: Some(t),
        ..conformance::new_job("q", t)
    };
    let results = store
        .fire(FireBatch {
            owner: conformance::OWNER.into(),
            fires: vec![ScheduleFire {
                schedule_id: header.id.clone(),
                bucket: 3,
                epoch,
                expected_next_fire_at: t,
                expected_version: 3,
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
        .schedules_get(&header.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(
        (after.next_fire_at, &after.spec, after.version),
        (Some(next), &header.spec, 3)
    );
}

/// Schedules that differ only in name and payload share one stored
/// template, which goes with the last of them; a spec that changes moves
/// its schedule to another template.
#[tokio::test]
async fn templates_are_shared_and_released() {
    use chime_core::model::new_id;
    use chime_store::{ScheduleCreate, ScheduleUpdate};
    let (space, store, mut conn) = raw_access().await;
    let t = conformance::base(&store).await;
    let templates = |conn: &mut redis::aio::MultiplexedConnection| {
        let key = format!("{{{}}}:tpl", space.prefix);
        let mut conn = conn.clone();
        async move {
            let n: usize = redis::cmd("HLEN")
                .arg(key)
                .query_async(&mut conn)
                .await
                .expect("hlen");
            n
        }
    };
    let mut ids = Vec::new();
    for i in 0..3 {
        let mut spec = conformance::spec(&format!("report {i}"));
        spec.job.payload = serde_json::json!({"account": i});
        let id = new_id();
        store
            .schedules_create(ScheduleCreate {
                id: id.clone(),
                spec,
                bucket: i,
                next_fire_at: Some(t),
                now: None,
            })
            .await
            .expect("create");
        ids.push(id);
    }
    assert_eq!(templates(&mut conn).await, 1);
    let mut changed = conformance::spec("report 0");
    changed.job.queue = "elsewhere".into();
    store
        .schedules_update(ScheduleUpdate {
            id: ids[0].clone(),
            expected_version: Some(1),
            spec: changed.clone(),
            next_fire_at: Some(t),
            occurrences: vec![],
            now: None,
        })
        .await
        .expect("update");
    assert_eq!(templates(&mut conn).await, 2);
    assert_eq!(
        store
            .schedules_get(&ids[0])
            .await
            .expect("get")
            .expect("kept")
            .spec,
        changed
    );
    for id in &ids[1..] {
        assert!(store.schedules_delete(id).await.expect("delete"));
    }
    assert_eq!(templates(&mut conn).await, 1);
    assert!(store.schedules_delete(&ids[0]).await.expect("delete"));
    assert_eq!(templates(&mut conn).await, 0);
}

/// Jobs stored by earlier versions, one hash of fields each, move into
/// today's records when a store opens: a running one (claimed before jobs
/// carried their running attempt, so open in its attempts hash) keeps its
/// lease and completes under it, a waiting one is claimed in priority
/// order, a finished one reads back with its attempt, and the hashes go.
#[tokio::test]
async fn jobs_in_the_hash_layout_move_when_a_store_opens() {
    use chime_core::model::{AttemptOutcome, JobState};
    use chime_store::{Completion, JobCompletion, JobsComplete, JobsList, RetentionPrune};
    let (space, store, mut conn) = raw_access().await;
    let t = conformance::base(&store).await;
    let ms = |t: jiff::Timestamp| t.as_millisecond().to_string();
    let key = |parts: &str| format!("{{{}}}:{parts}", space.prefix);
    let (running, waiting, low, finished) = ("job-r", "job-w", "job-l", "job-f");
    let hash = |id: &str, fields: &[(&str, String)]| {
        let mut cmd = redis::cmd("HSET");
        cmd.arg(key(&format!("j:{id}")));
        for (f, v) in fields {
            cmd.arg(*f).arg(v);
        }
        cmd
    };
    let common = |state: &str, attempt: &str| {
        vec![
            ("state", state.to_string()),
            ("attempt", attempt.to_string()),
            ("queue", "q".to_string()),
            ("kind", "k".to_string()),
            ("payload", r#"{"n":1}"#.to_string()),
            ("run_at", ms(conformance::secs(t, -5))),
            ("created_at", ms(conformance::secs(t, -10))),
        ]
    };
    let mut r = common("running", "1");
    r.extend([
        ("worker", "w1".to_string()),
        ("lease_token", "tok".to_string()),
        ("lease_expires_at", ms(conformance::secs(t, 30))),
    ]);
    let mut w = common("pending", "0");
    w.push(("priority", "5".to_string()));
    let l = common("pending", "0");
    let mut f = common("succeeded", "1");
    f.extend([
        ("worker", "w2".to_string()),
        ("lease_token", "old".to_string()),
        ("lease_expires_at", ms(conformance::secs(t, -1))),
        ("started_at", ms(conformance::secs(t, -4))),
        ("finished_at", ms(conformance::secs(t, -3))),
        ("outcome", "succeeded".to_string()),
        ("output", "ok".to_string()),
    ]);
    // ready_score in wire.rs: priority first, then run_at.
    let score = |priority: i64| {
        (1000 - priority) * 4_398_046_511_104 + conformance::secs(t, -5).as_millisecond()
            - 1_577_836_800_000
    };
    let _: () = redis::pipe()
        .add_command(hash(running, &r))
        .ignore()
        .add_command(hash(waiting, &w))
        .ignore()
        .add_command(hash(low, &l))
        .ignore()
        .add_command(hash(finished, &f))
        .ignore()
        .cmd("HSET")
        .arg(key(&format!("a:{running}")))
        .arg("1")
        .arg(format!(r#"{{"worker":"w1","started_at":{}}}"#, ms(t)))
        .ignore()
        .cmd("ZADD")
        .arg(key("running"))
        .arg(ms(conformance::secs(t, 30)))
        .arg(running)
        .ignore()
        .cmd("ZADD")
        .arg(key("q:q:r"))
        .arg(score(0))
        .arg(low)
        .arg(score(5))
        .arg(waiting)
        .ignore()
        .cmd("ZADD")
        .arg(key("fin:q"))
        .arg(ms(conformance::secs(t, -3)))
        .arg(finished)
        .ignore()
        .cmd("ZADD")
        .arg(key("jobs"))
        .arg(0)
        .arg(running)
        .arg(0)
        .arg(waiting)
        .arg(0)
        .arg(low)
        .arg(0)
        .arg(finished)
        .ignore()
        .cmd("SADD")
        .arg(key("queues"))
        .arg("q")
        .ignore()
        .cmd("HSET")
        .arg(key("qc:q"))
        .arg("running")
        .arg(1)
        .arg("pending")
        .arg(2)
        .arg("succeeded")
        .arg(1)
        .ignore()
        // The layout an instance of the previous version left.
        .cmd("SET")
        .arg(key("layout"))
        .arg("schedule-records")
        .ignore()
        .query_async(&mut conn)
        .await
        .expect("write the old layout");

    let store: std::sync::Arc<dyn chime_store::Store> =
        std::sync::Arc::new(RedisStore::open(&space.url).await.expect("reopen"));
    let left: Vec<String> = redis::cmd("KEYS")
        .arg(key("j:*"))
        .query_async(&mut conn)
        .await
        .expect("keys");
    assert!(left.is_empty(), "{left:?}");

    let listed = store
        .jobs_list(JobsList {
            namespace: None,
            queue: None,
            state: None,
            schedule_id: None,
            before_id: None,
            limit: 10,
        })
        .await
        .expect("list");
    let mut states: Vec<_> = listed.iter().map(|j| (j.id.as_str(), j.state)).collect();
    states.sort_by_key(|s| s.0);
    assert_eq!(
        states,
        vec![
            (finished, JobState::Succeeded),
            (low, JobState::Pending),
            (running, JobState::Running),
            (waiting, JobState::Pending)
        ]
    );
    let r = store.jobs_get(running).await.expect("get").expect("kept");
    assert_eq!(
        (
            r.worker.as_deref(),
            r.lease_expires_at,
            r.job.payload.clone()
        ),
        (
            Some("w1"),
            Some(conformance::secs(t, 30)),
            serde_json::json!({"n": 1})
        )
    );
    let open = store.attempts_list(running).await.expect("attempts");
    assert_eq!(
        open.iter()
            .map(|a| (a.attempt, a.started_at, a.finished_at))
            .collect::<Vec<_>>(),
        vec![(1, t, None)]
    );
    let done = store.attempts_list(finished).await.expect("attempts");
    assert_eq!(
        done.iter()
            .map(|a| (
                a.attempt,
                a.worker.as_str(),
                a.finished_at,
                a.output.as_deref()
            ))
            .collect::<Vec<_>>(),
        vec![(1, "w2", Some(conformance::secs(t, -3)), Some("ok"))]
    );

    // The waiting jobs claim in priority order.
    let claimed = conformance::jobs::claim(&store, &["q"], 10, t, 30).await;
    assert_eq!(
        claimed
            .iter()
            .map(|c| (c.job.id.as_str(), c.job.attempt))
            .collect::<Vec<_>>(),
        vec![(waiting, 1), (low, 1)]
    );
    let applied = store
        .jobs_complete(JobsComplete {
            completions: vec![JobCompletion {
                job_id: running.to_string(),
                lease_token: "tok".into(),
                completion: Completion::Succeeded,
                outcome: AttemptOutcome::Succeeded,
                error: None,
                output: Some("done".into()),
                held: None,
            }],
            now: Some(conformance::secs(t, 1)),
        })
        .await
        .expect("complete");
    assert!(applied[0].is_ok());
    let closed = store.attempts_list(running).await.expect("attempts");
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
    // Its lease is gone with it: nothing expires later.
    assert!(store
        .jobs_rescue(chime_store::JobsRescue {
            limit: 10,
            now: Some(conformance::secs(t, 25))
        })
        .await
        .expect("rescue")
        .is_empty());
    // Retention removes moved jobs like any other.
    let pruned = store
        .retention_prune(RetentionPrune {
            jobs_finished_before: conformance::secs(t, 2),
            queues_finished_before: Vec::new(),
            occurrences_before: t,
            limit: 10,
        })
        .await
        .expect("prune");
    assert_eq!(pruned.jobs, 2);
    assert!(store.jobs_get(finished).await.expect("get").is_none());
}
