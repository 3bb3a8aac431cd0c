//! Workers and executors on a real engine over SQLite. Tests wait on
//! signals (channels, drop guards, process exits), never on fixed sleeps.

use chime_core::model::{AttemptOutcome, JobSpec, JobState};
use chime_core::time::SystemClock;
use chime_engine::worker::WorkerConfig;
use chime_engine::{Engine, EngineConfig, JobError, JobResult};
use chime_store::sqlite::SqliteStore;
use chime_store::{JobsClaim, Store};
use jiff::SignedDuration;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

struct Harness {
    store: Arc<dyn Store>,
    engine: Option<Engine>,
    cancel: CancellationToken,
    _dir: tempfile::TempDir,
}

async fn harness(concurrency: usize, allow_commands: bool) -> Harness {
    harness_with(concurrency, allow_commands, |_| {}).await
}

async fn harness_with(
    concurrency: usize,
    allow_commands: bool,
    tune: impl FnOnce(&mut WorkerConfig),
) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("chime.db").display());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&url).await.unwrap());
    let mut cfg = EngineConfig::single_node("test");
    cfg.scheduler = None;
    cfg.allow_commands = allow_commands;
    cfg.reap_every = Duration::from_millis(100);
    let mut worker = WorkerConfig::new("test", concurrency);
    worker.lease = SignedDuration::from_secs(1);
    worker.heartbeat_every = SignedDuration::from_millis(100);
    worker.poll_every = Duration::from_millis(50);
    tune(&mut worker);
    cfg.worker = Some(worker);
    let engine = Engine::new(store.clone(), Arc::new(SystemClock), cfg);
    Harness {
        store,
        engine: Some(engine),
        cancel: CancellationToken::new(),
        _dir: dir,
    }
}

impl Harness {
    fn engine(&mut self) -> &mut Engine {
        self.engine.as_mut().expect("not started")
    }

    async fn enqueue(&self, json: serde_json::Value) -> String {
        let spec: JobSpec = serde_json::from_value(json).unwrap();
        let service = self
            .engine
            .as_ref()
            .expect("enqueue before start")
            .service();
        service.job_enqueue(spec).await.unwrap().0.id
    }

    fn start(&mut self) {
        let engine = self.engine.take().expect("started once");
        tokio::spawn(engine.run(self.cancel.clone()));
    }

    /// The job as the store has it now.
    async fn job(&self, id: &str) -> chime_core::model::Job {
        self.store.jobs_get(id).await.unwrap().unwrap()
    }

    async fn wait_state(&self, id: &str, state: JobState) -> chime_core::model::Job {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let job = self.job(id).await;
            if job.state == state {
                return job;
            }
            assert!(
                Instant::now() < deadline,
                "job {id} stuck in {:?}, wanted {state:?}",
                job.state
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Enqueues a job of `kind` due at `run_at` through a running engine's service.
async fn enqueue_at(
    service: &chime_engine::service::Service,
    kind: &str,
    run_at: jiff::Timestamp,
) -> String {
    let spec: JobSpec =
        serde_json::from_value(serde_json::json!({"kind": kind, "run_at": run_at.to_string()}))
            .unwrap();
    service.job_enqueue(spec).await.unwrap().0.id
}

/// Sends on drop: proves a handler's future was dropped (its work stopped).
struct DropSignal(Option<mpsc::UnboundedSender<&'static str>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send("dropped");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_retries_with_backoff_then_succeeds() {
    let mut h = harness(4, false).await;
    let tries = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let seen = tries.clone();
    h.engine().handle("flaky", move |_job, ctx| {
        let seen = seen.clone();
        async move {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if ctx.attempt < 3 {
                JobResult::Err(JobError::retry(format!("attempt {} failed", ctx.attempt)))
            } else {
                Ok(Some("done".into()))
            }
        }
    });
    let id = h.enqueue(serde_json::json!({"kind": "flaky", "max_attempts": 5, "backoff": {"initial_ms": 20, "max_ms": 40}})).await;
    h.start();
    h.wait_state(&id, JobState::Succeeded).await;
    let attempts = h.store.attempts_list(&id).await.unwrap();
    let outcomes: Vec<_> = attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            Some(AttemptOutcome::Failed),
            Some(AttemptOutcome::Failed),
            Some(AttemptOutcome::Succeeded)
        ]
    );
    assert_eq!(attempts[2].output.as_deref(), Some("done"));
    assert_eq!(tries.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_without_retry_and_missing_handler_are_dead_at_once() {
    let mut h = harness(4, false).await;
    h.engine().handle("bad", |_job, _ctx| async {
        JobResult::Err(JobError::Fail("invalid input".into()))
    });
    let bad = h
        .enqueue(serde_json::json!({"kind": "bad", "max_attempts": 5}))
        .await;
    let unknown = h
        .enqueue(serde_json::json!({"kind": "nobody.handles.this", "max_attempts": 5}))
        .await;
    h.start();
    for id in [&bad, &unknown] {
        let job = h.wait_state(id, JobState::Dead).await;
        assert_eq!(job.attempt, 1, "no retry");
    }
    let job = h.job(&unknown).await;
    assert!(job.last_error.unwrap().contains("no handler"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_stops_the_work() {
    let mut h = harness(4, false).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    h.engine().handle("stuck", move |_job, _ctx| {
        let guard = DropSignal(Some(tx.clone()));
        async move {
            let _guard = guard;
            std::future::pending::<()>().await;
            Ok(None)
        }
    });
    let id = h
        .enqueue(serde_json::json!({"kind": "stuck", "timeout_ms": 200, "max_attempts": 1}))
        .await;
    h.start();
    assert_eq!(rx.recv().await, Some("dropped"));
    h.wait_state(&id, JobState::Dead).await;
    let attempts = h.store.attempts_list(&id).await.unwrap();
    assert_eq!(attempts[0].outcome, Some(AttemptOutcome::TimedOut));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_running_job_stops_the_work() {
    let mut h = harness(4, false).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    h.engine().handle("long", move |_job, _ctx| {
        let guard = DropSignal(Some(tx.clone()));
        let started = tx.clone();
        async move {
            let _guard = guard;
            let _ = started.send("started");
            std::future::pending::<()>().await;
            Ok(None)
        }
    });
    let id = h
        .enqueue(serde_json::json!({"kind": "long", "timeout_ms": 600000}))
        .await;
    h.start();
    assert_eq!(rx.recv().await, Some("started"));
    h.store.jobs_cancel(&id).await.unwrap();
    // The next heartbeat finds the lease revoked and drops the work.
    assert_eq!(rx.recv().await, Some("dropped"));
    assert_eq!(h.job(&id).await.state, JobState::Cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_timeout_kills_the_whole_process_group() {
    let mut h = harness(4, true).await;
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
    let id = h
        .enqueue(serde_json::json!({"max_attempts": 1, "target": {"command": {"argv": ["sh", "-c", script], "timeout_ms": 300}}}))
        .await;
    let ok = h.enqueue(serde_json::json!({"target": {"command": {"argv": ["sh", "-c", "echo hello; echo oops >&2"]}}})).await;
    h.start();
    h.wait_state(&id, JobState::Dead).await;
    let pid = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .to_string();
    let proc_dir = format!("/proc/{pid}");
    let deadline = Instant::now() + Duration::from_secs(10);
    // The grandchild `sleep 30` is gone (or a zombie awaiting its reaper).
    while std::path::Path::new(&proc_dir).exists()
        && !std::fs::read_to_string(format!("{proc_dir}/stat"))
            .unwrap_or_default()
            .contains(") Z")
    {
        assert!(
            Instant::now() < deadline,
            "sleep {pid} outlived the job's timeout"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    h.wait_state(&ok, JobState::Succeeded).await;
    let attempts = h.store.attempts_list(&ok).await.unwrap();
    let output = attempts[0].output.clone().unwrap();
    assert!(
        output.contains("hello") && output.contains("oops"),
        "{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn higher_priority_runs_first() {
    let mut h = harness(1, false).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    h.engine().handle("p", move |job, _ctx| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(job.job.priority);
            Ok(None)
        }
    });
    for p in [0, 0, 10, -5, 10] {
        h.enqueue(serde_json::json!({"kind": "p", "priority": p}))
            .await;
    }
    h.start();
    let mut order = Vec::new();
    for _ in 0..5 {
        order.push(rx.recv().await.unwrap());
    }
    assert_eq!(order, vec![10, 10, 0, 0, -5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_workers_job_is_rescued_and_run_again() {
    let mut h = harness(4, false).await;
    h.engine().handle("k", |_job, _ctx| async { Ok(None) });
    let id = h
        .enqueue(serde_json::json!({"kind": "k", "backoff": {"initial_ms": 10, "max_ms": 10}}))
        .await;
    // A worker that claims the job and then dies: its lease simply expires.
    let claimed = h
        .store
        .jobs_claim(JobsClaim {
            due_by: None,
            due_after: None,
            queues: vec![],
            limit: 1,
            worker: "ghost".into(),
            lease: SignedDuration::from_millis(300),
            now: None,
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    h.start();
    h.wait_state(&id, JobState::Succeeded).await;
    let attempts = h.store.attempts_list(&id).await.unwrap();
    assert_eq!(attempts[0].outcome, Some(AttemptOutcome::LeaseExpired));
    assert_eq!(
        (attempts[1].outcome, attempts[1].worker.as_str()),
        (Some(AttemptOutcome::Succeeded), "test")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_slot_idles_while_a_due_job_waits() {
    // 10 slots claimed 3 at a time leave one slot after three claims: fewer
    // than a "worthwhile" batch. Every job waits for all ten to be running,
    // so if the lane held that slot back for a bigger batch, none would end.
    let mut h = harness_with(10, false, |w| w.claim_batch = 3).await;
    let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = running.clone();
    h.engine().handle("together", move |_job, _ctx| {
        let seen = seen.clone();
        async move {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let deadline = Instant::now() + Duration::from_secs(10);
            while seen.load(std::sync::atomic::Ordering::SeqCst) < 10 {
                if Instant::now() > deadline {
                    return JobResult::Err(JobError::Fail("not all ten ran at once".into()));
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Ok(None)
        }
    });
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(h.enqueue(serde_json::json!({"kind": "together"})).await);
    }
    h.start();
    for id in &ids {
        h.wait_state(id, JobState::Succeeded).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_beyond_the_slots_is_held_and_none_starts_before_its_instant() {
    // 2 slots, 12 jobs due at one instant a few seconds ahead: once quick
    // jobs have shown the lane's pace, it claims the whole burst ahead of
    // its slots (all 12 running in the store while none has started), then
    // starts each at or after its run_at.
    let mut h = harness(2, false).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    h.engine().handle("quick", |_job, _ctx| async { Ok(None) });
    h.engine().handle("burst", move |job, _ctx| {
        let _ = tx.send((job.run_at, jiff::Timestamp::now()));
        async { Ok(None) }
    });
    let mut quick = Vec::new();
    for _ in 0..4 {
        quick.push(h.enqueue(serde_json::json!({"kind": "quick"})).await);
    }
    let service = h.engine().service();
    h.start();
    for id in &quick {
        h.wait_state(id, JobState::Succeeded).await;
    }
    let run_at = jiff::Timestamp::now() + SignedDuration::from_secs(3);
    let spec: JobSpec =
        serde_json::from_value(serde_json::json!({"kind": "burst", "run_at": run_at.to_string()}))
            .unwrap();
    let mut burst = Vec::new();
    for _ in 0..12 {
        burst.push(service.job_enqueue(spec.clone()).await.unwrap().0.id);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut running = 0;
        for id in &burst {
            if h.job(id).await.state == JobState::Running {
                running += 1;
            }
        }
        if running == burst.len() {
            break;
        }
        assert!(Instant::now() < deadline, "{running} of 12 claimed ahead");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        rx.try_recv().is_err(),
        "a held job started before its instant"
    );
    for id in &burst {
        h.wait_state(id, JobState::Succeeded).await;
    }
    for _ in 0..12 {
        let (due, started) = rx.recv().await.unwrap();
        assert!(started >= due, "started at {started}, due at {due}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_cancelled_while_held_for_its_instant_never_starts() {
    // Held jobs renew no lease while they wait; one held longer than a
    // heartbeat's interval renews it before starting, and a cancel
    // (which revokes the lease) in the meantime keeps it from starting.
    let mut h = harness(2, false).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    h.engine().handle("held", move |job, _ctx| {
        let _ = tx.send(job.id.clone());
        async { Ok(None) }
    });
    let service = h.engine().service();
    h.start();
    let run_at = jiff::Timestamp::now() + SignedDuration::from_millis(1500);
    let id = enqueue_at(&service, "held", run_at).await;
    h.wait_state(&id, JobState::Running).await;
    h.store.jobs_cancel(&id).await.unwrap();
    // A job due after it, on the same lane: once it has run, the cancelled
    // one's instant has passed too.
    let next = enqueue_at(&service, "held", run_at + SignedDuration::from_millis(300)).await;
    assert_eq!(rx.recv().await.as_deref(), Some(next.as_str()));
    assert!(rx.try_recv().is_err(), "the cancelled job started");
    assert_eq!(h.job(&id).await.state, JobState::Cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_records_running_outcomes_and_releases_held_jobs() {
    // One slot: a running job and one held for its instant. On shutdown the
    // running one finishes within the grace period and its outcome is
    // written before the worker returns; the held one goes back to pending
    // without having started.
    let mut h = harness(1, false).await;
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (release_tx, release) = tokio::sync::watch::channel(false);
    h.engine().handle("busy", move |_job, _ctx| {
        let _ = started_tx.send(());
        let mut release = release.clone();
        async move {
            let _ = release.wait_for(|go| *go).await;
            Ok(None)
        }
    });
    let running = h.enqueue(serde_json::json!({"kind": "busy"})).await;
    let service = h.engine().service();
    let engine = h.engine.take().expect("not started");
    let run = tokio::spawn(engine.run(h.cancel.clone()));
    started.recv().await.expect("the first job started");
    let run_at = jiff::Timestamp::now() + SignedDuration::from_millis(1200);
    let held = enqueue_at(&service, "busy", run_at).await;
    h.wait_state(&held, JobState::Running).await;
    h.cancel.cancel();
    release_tx.send(true).unwrap();
    run.await.unwrap().unwrap();
    // Read once, right after the worker returned: nothing may still be in flight.
    let done = h.job(&running).await;
    assert_eq!(done.state, JobState::Succeeded);
    let back = h.job(&held).await;
    assert_eq!(back.state, JobState::Pending);
    assert_eq!(
        back.last_error.as_deref(),
        Some("worker shut down before the job started")
    );
    assert!(started.try_recv().is_err(), "the held job started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_outcome_of_a_burst_is_recorded_even_when_a_handler_keeps_its_job() {
    // Quick jobs end on both worker threads at once and hand their outcomes
    // over together; half the handlers keep their job past its end, so the
    // worker cannot take the job's id from it and must copy it instead.
    let mut h = harness(8, false).await;
    let kept: Arc<std::sync::Mutex<Vec<Arc<chime_core::model::Job>>>> = Arc::default();
    let keep = kept.clone();
    h.engine().handle("quick", move |job, _ctx| {
        if job.job.payload["keep"] == true {
            keep.lock().unwrap().push(job.clone());
        }
        async { Ok(None) }
    });
    let mut ids = Vec::new();
    for i in 0..200 {
        ids.push(
            h.enqueue(serde_json::json!({"kind": "quick", "payload": {"keep": i % 2 == 0}}))
                .await,
        );
    }
    h.start();
    for id in &ids {
        h.wait_state(id, JobState::Succeeded).await;
    }
    let kept = kept.lock().unwrap();
    assert_eq!(kept.len(), 100);
    let mut kept_ids: Vec<&str> = kept.iter().map(|j| j.id.as_str()).collect();
    kept_ids.sort_unstable();
    let mut expected: Vec<&str> = ids.iter().step_by(2).map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(kept_ids, expected, "a kept job still has its id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attempt_of_a_scheduled_job_sees_its_fire_key() {
    // DESIGN §2.4: the key is worked out when the job is claimed; each retry
    // is a new claim and must see the same fire key, not the job id.
    let mut h = harness(2, false).await;
    let (keys_tx, mut keys) = mpsc::unbounded_channel();
    h.engine().handle("keyed", move |_job, ctx| {
        let _ = keys_tx.send(ctx.idempotency_key.clone());
        async move {
            if ctx.attempt < 3 {
                JobResult::Err(JobError::Retry {
                    error: "again".into(),
                    after: Some(SignedDuration::from_millis(10)),
                })
            } else {
                Ok(None)
            }
        }
    });
    let at: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let id = "job-keyed".to_string();
    let mut job = chime_core::model::JobTemplate::new("default", "keyed");
    job.max_attempts = 3;
    h.store
        .jobs_enqueue(vec![chime_store::NewJob {
            id: id.clone(),
            namespace: "default".into(),
            job,
            run_at: at,
            schedule_id: Some("sched-1".into()),
            scheduled_for: Some(at),
            unique_key: None,
        }])
        .await
        .unwrap();
    h.start();
    h.wait_state(&id, JobState::Succeeded).await;
    let expected = format!("sched-1@{}", at.as_millisecond());
    for attempt in 1..=3 {
        assert_eq!(
            keys.recv().await.as_deref(),
            Some(expected.as_str()),
            "attempt {attempt}"
        );
    }
}

/// A lane claims due jobs beyond its free slots once its pace shows they
/// start within the window (quick jobs have ended), and not before: held
/// behind a slow lane's jobs, they could outwait their leases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_jobs_are_claimed_beyond_the_slots_only_at_a_measured_pace() {
    for paced in [false, true] {
        let mut h = harness(1, false).await;
        let gate = Arc::new(tokio::sync::Notify::new());
        let open = gate.clone();
        h.engine().handle("quick", |_job, _ctx| async { Ok(None) });
        h.engine().handle("block", move |_job, _ctx| {
            let open = open.clone();
            async move {
                open.notified().await;
                Ok(None)
            }
        });
        let service = h.engine().service();
        h.start();
        let enqueue = |kind: &str, priority: i32| {
            let spec: JobSpec =
                serde_json::from_value(serde_json::json!({"kind": kind, "priority": priority}))
                    .unwrap();
            let service = service.clone();
            async move { service.job_enqueue(spec).await.unwrap().0.id }
        };
        if paced {
            for _ in 0..3 {
                let id = enqueue("quick", 0).await;
                h.wait_state(&id, JobState::Succeeded).await;
            }
        }
        let block = enqueue("block", 10).await;
        let mut quick = Vec::new();
        for _ in 0..5 {
            quick.push(enqueue("quick", 0).await);
        }
        h.wait_state(&block, JobState::Running).await;
        // Several claim rounds (the lane polls every 50 ms).
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut claimed = 0;
        for id in &quick {
            if h.job(id).await.state == JobState::Running {
                claimed += 1;
            }
        }
        assert_eq!(claimed, if paced { 5 } else { 0 }, "paced: {paced}");
        gate.notify_one();
        for id in &quick {
            h.wait_state(id, JobState::Succeeded).await;
        }
        h.cancel.cancel();
    }
}
