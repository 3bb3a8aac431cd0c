//! chime's load generator. Run in release, on an otherwise idle machine:
//!
//!     cargo run --release -p chime-bench -- lateness --schedules 1000 --seconds 20
//!     cargo run --release -p chime-bench -- throughput --jobs 100000 --concurrency 100
//!     cargo run --release -p chime-bench -- enqueue --jobs 100000 --batch 1
//!
//! Each runs `--runs` times (default 3) on a fresh SQLite file and prints
//! every run and the median. The engine runs in-process, so the figures are
//! the scheduler, workers and store, without HTTP in front.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use chime_core::model::{new_id, JobTemplate, ScheduleSpec};
use chime_core::time::SystemClock;
use chime_engine::worker::WorkerConfig;
use chime_engine::{Engine, EngineConfig};
use chime_store::postgres::PostgresStore;
use chime_store::redis::RedisStore;
use chime_store::sqlite::SqliteStore;
use chime_store::{JobsList, NewJob, OccurrencesList, Store};
use clap::{Parser, Subcommand};
use jiff::{SignedDuration, Timestamp};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    /// Repetitions; the median is reported.
    #[arg(long, global = true, default_value_t = 3)]
    runs: usize,
    /// Which store: a fresh SQLite file, PostgreSQL schema or Redis prefix per run.
    #[arg(long, global = true, value_enum, default_value_t = Backend::Sqlite)]
    backend: Backend,
    /// `sqlite:` URL template; `{dir}` becomes a fresh temp dir per run.
    #[arg(long, global = true, default_value = "sqlite://{dir}/bench.db")]
    db: String,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Backend {
    Sqlite,
    /// CHIME_TEST_POSTGRES, default the local server's `test` database.
    Postgres,
    /// CHIME_TEST_REDIS, default the local server.
    Redis,
}

#[derive(Subcommand)]
enum Cmd {
    /// Every-second schedules: lateness from the scheduled instant to the job's start, missed and duplicate fires.
    Lateness {
        #[arg(long, default_value_t = 1000)]
        schedules: usize,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Writes every sample as `scheduled_second,lateness_ms` lines to this file (last run wins).
        #[arg(long)]
        samples: Option<std::path::PathBuf>,
    },
    /// End to end: pre-enqueued no-op jobs drained by the workers.
    Throughput {
        #[arg(long, default_value_t = 100_000)]
        jobs: usize,
        #[arg(long, default_value_t = 100)]
        concurrency: usize,
    },
    /// One fire batch of `--schedules` schedules written alone (no workers): the store's share of fire lateness.
    FireWrite {
        #[arg(long, default_value_t = 1000)]
        schedules: usize,
    },
    /// Delayed jobs due over `--spread` seconds: lateness from run_at to the job's start.
    Delayed {
        #[arg(long, default_value_t = 10_000)]
        jobs: usize,
        #[arg(long, default_value_t = 10)]
        spread: u64,
    },
    /// Store memory per schedule (Redis `INFO memory`, before and after).
    ScheduleMemory {
        #[arg(long, default_value_t = 10_000)]
        schedules: usize,
        /// Each schedule posts to its own URL, so none shares its template
        /// with another (the layout's worst case).
        #[arg(long)]
        distinct: bool,
    },
    /// Schedules created one by one through the API while the engine runs
    /// (typical schedules, none due soon): creates per second, and the
    /// scheduler's reads of them.
    Create {
        #[arg(long, default_value_t = 10_000)]
        schedules: usize,
    },
    /// Dashboard pages' server time with `--jobs` finished and pending jobs in the store.
    Dashboard {
        #[arg(long, default_value_t = 100_000)]
        jobs: usize,
        /// Requests per page; the median and p95 are reported.
        #[arg(long, default_value_t = 30)]
        requests: usize,
    },
    /// Enqueue rate through the store, in batches of `--batch`.
    Enqueue {
        #[arg(long, default_value_t = 100_000)]
        jobs: usize,
        #[arg(long, default_value_t = 1)]
        batch: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut figures: Vec<Vec<(String, f64)>> = Vec::new();
    for run in 1..=cli.runs {
        let dir = tempfile::tempdir()?;
        // Held for the run: the schema or key space is dropped afterwards.
        let mut _space: Option<Box<dyn std::any::Any>> = None;
        let store: Arc<dyn Store> = match cli.backend {
            Backend::Sqlite => {
                let url = cli.db.replace("{dir}", &dir.path().display().to_string());
                Arc::new(SqliteStore::open(&url).await.context("opening SQLite")?)
            }
            Backend::Postgres => {
                let schema = chime_testkit::PgSchema::create().await;
                let store = PostgresStore::open(&schema.url)
                    .await
                    .context("opening PostgreSQL")?;
                _space = Some(Box::new(schema));
                Arc::new(store)
            }
            Backend::Redis => {
                let space = chime_testkit::RedisSpace::create();
                let store = RedisStore::open(&space.url)
                    .await
                    .context("opening Redis")?;
                _space = Some(Box::new(space));
                Arc::new(store)
            }
        };
        let result = match &cli.cmd {
            Cmd::Lateness {
                schedules,
                seconds,
                samples,
            } => lateness(store, *schedules, *seconds, samples.as_deref()).await?,
            Cmd::Throughput { jobs, concurrency } => {
                throughput(store, cli.backend, *jobs, *concurrency).await?
            }
            Cmd::Enqueue { jobs, batch } => enqueue(store, *jobs, *batch).await?,
            Cmd::ScheduleMemory {
                schedules,
                distinct,
            } => schedule_memory(store, *schedules, *distinct).await?,
            Cmd::Create { schedules } => create(store, *schedules).await?,
            Cmd::Delayed { jobs, spread } => delayed(store, *jobs, *spread).await?,
            Cmd::FireWrite { schedules } => fire_write(store, *schedules).await?,
            Cmd::Dashboard { jobs, requests } => dashboard(store, *jobs, *requests).await?,
        };
        println!(
            "run {run}: {}",
            result
                .iter()
                .map(|(k, v)| format!("{k}={v:.2}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        figures.push(result);
    }
    let Some(first) = figures.first() else {
        return Ok(());
    };
    let medians: Vec<String> = (0..first.len())
        .map(|i| {
            let mut vals: Vec<f64> = figures.iter().map(|f| f[i].1).collect();
            vals.sort_by(f64::total_cmp);
            format!("{}={:.2}", first[i].0, vals[vals.len() / 2])
        })
        .collect();
    println!("median of {}: {}", figures.len(), medians.join(" "));
    Ok(())
}

fn engine(store: Arc<dyn Store>, concurrency: usize, scheduler: bool) -> Engine {
    let mut cfg = EngineConfig::single_node("bench");
    if !scheduler {
        cfg.scheduler = None;
    }
    if let (Some(s), Ok(batch)) = (
        cfg.scheduler.as_mut(),
        std::env::var("CHIME_BENCH_FIRE_BATCH"),
    ) {
        s.batch_max = batch.parse().unwrap_or(s.batch_max);
    }
    let mut worker = WorkerConfig::new("bench", concurrency);
    if let Ok(v) = std::env::var("CHIME_BENCH_CLAIM_BATCH") {
        worker.claim_batch = v.parse().unwrap_or(worker.claim_batch);
    }
    if let (Some(s), Ok(v)) = (
        cfg.scheduler.as_mut(),
        std::env::var("CHIME_BENCH_FIRE_AHEAD_MS"),
    ) {
        s.fire_ahead = jiff::SignedDuration::from_millis(v.parse().unwrap_or(100));
    }
    cfg.worker = Some(worker);
    Engine::new(store, Arc::new(SystemClock), cfg)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The p99 start lateness of each scheduled second from `first` to `last`
/// (samples as `lateness` collects them), in order.
fn per_second_p99(samples: &[(i64, f64, f64)], first: i64, last: i64) -> Vec<f64> {
    let mut by_second: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for &(second, ms, _) in samples {
        if (first..=last).contains(&second) {
            by_second.entry(second).or_default().push(ms);
        }
    }
    by_second
        .into_values()
        .map(|mut late| {
            late.sort_by(f64::total_cmp);
            percentile(&late, 0.99)
        })
        .collect()
}

async fn lateness(
    store: Arc<dyn Store>,
    schedules: usize,
    seconds: u64,
    dump: Option<&std::path::Path>,
) -> anyhow::Result<Vec<(String, f64)>> {
    // As many slots as BullMQ's side gets: a second's fires, up to a
    // thousand; a larger burst is held without slots until its instant.
    let mut engine = engine(store.clone(), schedules.clamp(200, 1000), true);
    // (scheduled second, start lateness ms, how long before its instant the
    // fire was written ms): a late start with a short lead was a late fire.
    let samples: Arc<Mutex<Vec<(i64, f64, f64)>>> = Arc::default();
    let sink = samples.clone();
    engine.handle("bench.tick", move |job, _ctx| {
        let late = job.scheduled_for.map(|at| {
            (
                at.as_second(),
                Timestamp::now().duration_since(at).as_secs_f64() * 1000.0,
                at.duration_since(job.created_at).as_secs_f64() * 1000.0,
            )
        });
        if let (Some(sample), Ok(mut s)) = (late, sink.lock()) {
            s.push(sample);
        }
        async { Ok(None) }
    });
    let service = engine.service();
    let events = engine.events();
    // Running before the schedules are created, as BullMQ's side runs its
    // worker before it adds its job schedulers (bench/bullmq/versus.mjs):
    // schedules created first would all start with a catch-up fire.
    let cancel = CancellationToken::new();
    let running = tokio::spawn(engine.run(cancel.clone()));
    let mut ids = Vec::with_capacity(schedules);
    let creating = Instant::now();
    for i in 0..schedules {
        let spec: ScheduleSpec = serde_json::from_value(serde_json::json!({
            "name": format!("bench-{i}"), "every": "1s", "job": {"kind": "bench.tick", "queue": "bench"}
        }))?;
        ids.push(service.schedule_create(spec).await?.id);
    }
    let created_s = creating.elapsed().as_secs_f64();
    // Warm-up, as on BullMQ's side.
    tokio::time::sleep(Duration::from_secs(2)).await;
    if let Ok(mut s) = samples.lock() {
        s.clear();
    }
    let started = Timestamp::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let ended = Timestamp::now();
    cancel.cancel();
    running.await??;

    let raw = samples.lock().map(|s| s.clone()).unwrap_or_default();
    if let Some(path) = dump {
        let lines: Vec<String> = raw
            .iter()
            .map(|(s, ms, lead)| format!("{s},{ms:.3},{lead:.3}"))
            .collect();
        std::fs::write(path, lines.join("\n"))?;
    }
    let mut late: Vec<f64> = raw.iter().map(|(_, ms, _)| *ms).collect();
    late.sort_by(f64::total_cmp);
    // Every whole second inside the window must have exactly one job per schedule.
    let first = started.as_second() + 1;
    let last = ended.as_second() - 2;
    let mut missed = 0u64;
    let mut duplicated = 0u64;
    for id in &ids {
        let jobs = store
            .jobs_list(JobsList {
                schedule_id: Some(id.clone()),
                limit: 100_000,
                ..Default::default()
            })
            .await?;
        let mut seen = HashSet::new();
        for j in &jobs {
            if let Some(at) = j.scheduled_for {
                if !seen.insert(at.as_second()) {
                    duplicated += 1;
                }
            }
        }
        missed += (first..=last).filter(|s| !seen.contains(s)).count() as u64;
        let ledger = store
            .occurrences_list(OccurrencesList {
                schedule_id: id.clone(),
                before: None,
                limit: 100_000,
            })
            .await?;
        missed += ledger
            .iter()
            .filter(|o| o.outcome == chime_core::model::OccurrenceOutcome::Missed)
            .map(|o| o.count)
            .sum::<u64>();
    }
    let seconds_p99 = per_second_p99(&raw, first, last);
    Ok(vec![
        ("schedules".into(), schedules as f64),
        // Creating them one by one through the API, the engine running.
        ("create_s".into(), created_s),
        ("fires".into(), late.len() as f64),
        ("p50_ms".into(), percentile(&late, 0.50)),
        ("p99_ms".into(), percentile(&late, 0.99)),
        ("max_ms".into(), late.last().copied().unwrap_or(f64::NAN)),
        // Each whole second's own p99: a late stretch that recurs (a
        // reload, a lease renewal) shows as a few bad seconds among good.
        (
            "worst_second_p99_ms".into(),
            seconds_p99.iter().copied().fold(f64::NAN, f64::max),
        ),
        // Over the target, and over a stall.
        (
            "seconds_p99_over_10ms".into(),
            seconds_p99.iter().filter(|&&p| p > 10.0).count() as f64,
        ),
        (
            "seconds_p99_over_100ms".into(),
            seconds_p99.iter().filter(|&&p| p > 100.0).count() as f64,
        ),
        ("missed".into(), missed as f64),
        // Scheduled instant to fire written, as bucket upper bounds (ms).
        (
            "fire_p50_le_ms".into(),
            upper_ms(&events.metrics.fire_write_lateness, 0.5),
        ),
        (
            "fire_p99_le_ms".into(),
            upper_ms(&events.metrics.fire_write_lateness, 0.99),
        ),
        (
            "write_p50_le_ms".into(),
            upper_ms(&events.metrics.store_calls.get("fire").duration, 0.5),
        ),
        (
            "write_p99_le_ms".into(),
            upper_ms(&events.metrics.store_calls.get("fire").duration, 0.99),
        ),
        ("duplicated".into(), duplicated as f64),
    ])
}

fn noop_jobs(n: usize, run_at: Timestamp) -> Vec<NewJob> {
    (0..n)
        .map(|_| NewJob {
            id: new_id(),
            namespace: "default".into(),
            job: JobTemplate::new("bench", "chime.noop"),
            run_at,
            schedule_id: None,
            scheduled_for: None,
            unique_key: None,
        })
        .collect()
}

async fn throughput(
    store: Arc<dyn Store>,
    backend: Backend,
    jobs: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<(String, f64)>> {
    let past = Timestamp::now() - SignedDuration::from_secs(1);
    let all = noop_jobs(jobs, past);
    let t_enqueue = Instant::now();
    for chunk in all.chunks(1000) {
        store.jobs_enqueue(chunk.to_vec()).await?;
    }
    let enqueue_secs = t_enqueue.elapsed().as_secs_f64();
    let mut engine = engine(store.clone(), concurrency, false);
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = done.clone();
    engine.handle("chime.noop", move |_job, _ctx| {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        async { Ok(None) }
    });
    let cancel = CancellationToken::new();
    // Redis's CPU over the processing alone: its one thread is what a Redis store waits on.
    let cpu_before = match backend {
        Backend::Redis => Some(redis_cpu_seconds().await?),
        _ => None,
    };
    let t0 = Instant::now();
    let running = tokio::spawn(engine.run(cancel.clone()));
    // The handler's counter, not the store: a count query would compete with the workers.
    while done.load(std::sync::atomic::Ordering::Relaxed) < jobs {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cancel.cancel();
    running.await??;
    // Every outcome is recorded once the engine has stopped.
    let secs = t0.elapsed().as_secs_f64();
    let cpu = match cpu_before {
        Some(before) => Some(redis_cpu_seconds().await? - before),
        None => None,
    };
    let succeeded: u64 = store
        .queues_stats()
        .await?
        .iter()
        .map(|s| s.succeeded)
        .sum();
    anyhow::ensure!(
        succeeded as usize == jobs,
        "only {succeeded} of {jobs} jobs recorded as succeeded"
    );
    let mut figures = vec![
        ("jobs".into(), jobs as f64),
        ("seconds".into(), secs),
        ("jobs_per_s".into(), jobs as f64 / secs),
        ("enqueue_jobs_per_s".into(), jobs as f64 / enqueue_secs),
    ];
    if let Some(cpu) = cpu {
        figures.push(("redis_cpu_us_per_job".into(), cpu * 1e6 / jobs as f64));
        figures.push(("redis_busy".into(), cpu / secs));
    }
    Ok(figures)
}

async fn enqueue(
    store: Arc<dyn Store>,
    jobs: usize,
    batch: usize,
) -> anyhow::Result<Vec<(String, f64)>> {
    let all = noop_jobs(jobs, Timestamp::now());
    let t0 = Instant::now();
    for chunk in all.chunks(batch.max(1)) {
        store.jobs_enqueue(chunk.to_vec()).await?;
    }
    let secs = t0.elapsed().as_secs_f64();
    Ok(vec![
        ("jobs".into(), jobs as f64),
        ("batch".into(), batch as f64),
        ("jobs_per_s".into(), jobs as f64 / secs),
    ])
}

async fn fire_write(store: Arc<dyn Store>, schedules: usize) -> anyhow::Result<Vec<(String, f64)>> {
    use chime_engine::scheduler::plan::{plan, PlanConfig};
    use chime_store::{BucketsAcquire, FireBatch, ScheduleFire, SchedulesDue};
    let engine = engine(store.clone(), 1, false);
    let service = engine.service();
    // Every schedule starts at one instant well ahead, and each round fires
    // one second of it: the same work however long the set-up took (under
    // bench/redis-instructions it takes a while).
    let start = Timestamp::from_second(Timestamp::now().as_second() + 300)?;
    for i in 0..schedules {
        let spec: ScheduleSpec = serde_json::from_value(serde_json::json!({
            "name": format!("bench-{i}"), "every": "1s", "start_at": start.to_string(),
            "job": {"kind": "bench.tick", "queue": "bench"}
        }))?;
        service.schedule_create(spec).await?;
    }
    let held = store
        .buckets_acquire(BucketsAcquire {
            owner: "bench".into(),
            buckets: (0..256).collect(),
            ttl: SignedDuration::from_secs(600),
            now: None,
        })
        .await?;
    let epochs: std::collections::HashMap<u32, u64> =
        held.iter().map(|l| (l.bucket, l.epoch)).collect();
    let mut timings = Vec::new();
    for round in 0..5 {
        let now = start + SignedDuration::from_secs(round + 1);
        let due = store
            .schedules_due(SchedulesDue {
                buckets: (0..256).collect(),
                until: now,
                limit: 100_000,
            })
            .await?;
        let t0 = Instant::now();
        let fires: Vec<ScheduleFire> = due
            .iter()
            .map(|s| {
                let times = s.spec.times(&chime_core::Zone::utc()).expect("valid");
                let p = plan(
                    s,
                    &times,
                    now,
                    &PlanConfig {
                        misfire_threshold: SignedDuration::from_secs(3600),
                    },
                );
                let bucket = chime_core::model::schedule::bucket_of(&s.id, 256);
                ScheduleFire {
                    schedule_id: s.id.clone(),
                    bucket,
                    epoch: epochs[&bucket],
                    expected_next_fire_at: s.next_fire_at.expect("due"),
                    expected_version: s.version,
                    next_fire_at: p.next_fire_at,
                    overlap: s.spec.overlap,
                    occurrences: p.occurrences,
                }
            })
            .collect();
        let planned = t0.elapsed().as_secs_f64() * 1000.0;
        let t1 = Instant::now();
        store
            .fire(FireBatch {
                owner: "bench".into(),
                fires,
                now: Some(now),
            })
            .await?;
        timings.push((planned, t1.elapsed().as_secs_f64() * 1000.0));
    }
    timings.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (plan_ms, write_ms) = timings[timings.len() / 2];
    Ok(vec![
        ("schedules".into(), schedules as f64),
        ("plan_ms".into(), plan_ms),
        ("write_ms".into(), write_ms),
    ])
}

/// The numeric fields of one `INFO` section of the Redis under test.
async fn redis_info(section: &str) -> anyhow::Result<HashMap<String, f64>> {
    let client = redis::Client::open(chime_testkit::redis_url())?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let info: String = redis::cmd("INFO")
        .arg(section)
        .query_async(&mut conn)
        .await?;
    Ok(info
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter_map(|(k, v)| Some((k.to_string(), v.trim().parse().ok()?)))
        .collect())
}

/// Redis `used_memory` now.
async fn redis_used_memory() -> anyhow::Result<i64> {
    let info = redis_info("memory").await?;
    let bytes = info
        .get("used_memory")
        .context("no used_memory in INFO memory")?;
    Ok(*bytes as i64)
}

/// CPU seconds the Redis server has used so far (user and system): over a
/// phase, Redis's work whatever else the machine does, as long as nothing
/// else uses that Redis.
async fn redis_cpu_seconds() -> anyhow::Result<f64> {
    let info = redis_info("cpu").await?;
    match (info.get("used_cpu_user"), info.get("used_cpu_sys")) {
        (Some(user), Some(sys)) => Ok(user + sys),
        _ => anyhow::bail!("no used_cpu_user/used_cpu_sys in INFO cpu"),
    }
}

/// A typical schedule: a five-field cron in a named zone posting to a URL.
fn typical_schedule(i: usize) -> anyhow::Result<ScheduleSpec> {
    Ok(serde_json::from_value(serde_json::json!({
        "name": format!("nightly-report-{i}"),
        "cron": "15 2 * * *",
        "timezone": "Europe/Berlin",
        "job": {"kind": "report.nightly", "queue": "reports",
                "payload": {"account": i},
                "target": {"http": {"url": "https://api.example.com/hooks/report"}}}
    }))?)
}

async fn schedule_memory(
    store: Arc<dyn Store>,
    schedules: usize,
    distinct: bool,
) -> anyhow::Result<Vec<(String, f64)>> {
    let engine = engine(store, 1, false);
    let service = engine.service();
    let before = redis_used_memory().await?;
    for i in 0..schedules {
        let mut spec = typical_schedule(i)?;
        if distinct {
            spec.job.target = Some(serde_json::from_value(serde_json::json!(
                {"http": {"url": format!("https://api.example.com/hooks/report/{i}")}}
            ))?);
        }
        service.schedule_create(spec).await?;
    }
    let after = redis_used_memory().await?;
    Ok(vec![
        ("schedules".into(), schedules as f64),
        (
            "bytes_per_schedule".into(),
            (after - before) as f64 / schedules as f64,
        ),
    ])
}

async fn create(store: Arc<dyn Store>, schedules: usize) -> anyhow::Result<Vec<(String, f64)>> {
    let engine = engine(store, 10, true);
    let service = engine.service();
    let metrics = engine.events().metrics.clone();
    let cancel = CancellationToken::new();
    let running = tokio::spawn(engine.run(cancel.clone()));
    // Let the scheduler take its buckets first.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let reads = |op: &str| metrics.store_calls.get(op).duration.count() as f64;
    let (loads, gets) = (reads("schedules_due"), reads("schedules_get"));
    let started = Instant::now();
    for i in 0..schedules {
        service.schedule_create(typical_schedule(i)?).await?;
    }
    let took = started.elapsed().as_secs_f64();
    cancel.cancel();
    running.await??;
    Ok(vec![
        ("schedules".into(), schedules as f64),
        ("seconds".into(), took),
        ("creates_per_s".into(), schedules as f64 / took),
        ("reloads".into(), reads("schedules_due") - loads),
        ("schedule_reads".into(), reads("schedules_get") - gets),
    ])
}

async fn delayed(
    store: Arc<dyn Store>,
    jobs: usize,
    spread: u64,
) -> anyhow::Result<Vec<(String, f64)>> {
    let mut engine = engine(store.clone(), 100, false);
    let samples: Arc<Mutex<Vec<f64>>> = Arc::default();
    let sink = samples.clone();
    engine.handle("chime.noop", move |job, _ctx| {
        let late = Timestamp::now().duration_since(job.run_at).as_secs_f64() * 1000.0;
        if let Ok(mut s) = sink.lock() {
            s.push(late);
        }
        async { Ok(None) }
    });
    let start = Timestamp::now() + SignedDuration::from_secs(2);
    let step = spread as f64 * 1000.0 / jobs.max(1) as f64;
    let mut all = noop_jobs(jobs, start);
    for (i, job) in all.iter_mut().enumerate() {
        job.run_at = start + SignedDuration::from_millis((i as f64 * step) as i64);
    }
    let cancel = CancellationToken::new();
    let running = tokio::spawn(engine.run(cancel.clone()));
    for chunk in all.chunks(1000) {
        store.jobs_enqueue(chunk.to_vec()).await?;
    }
    let deadline = Instant::now() + Duration::from_secs(spread + 32);
    while samples.lock().map(|s| s.len()).unwrap_or(0) < jobs && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cancel.cancel();
    running.await??;
    let mut late = samples.lock().map(|s| s.clone()).unwrap_or_default();
    late.sort_by(f64::total_cmp);
    Ok(vec![
        ("jobs".into(), jobs as f64),
        ("p50_ms".into(), percentile(&late, 0.50)),
        ("p99_ms".into(), percentile(&late, 0.99)),
        ("max_ms".into(), late.last().copied().unwrap_or(f64::NAN)),
        ("missed".into(), (jobs - late.len().min(jobs)) as f64),
    ])
}

/// Upper bound (ms) of the histogram bucket holding quantile `q`; 0 when
/// empty, `inf` past the last bound (30 s).
fn upper_ms(h: &chime_engine::metrics::Histogram, q: f64) -> f64 {
    h.quantile_upper(q).map_or(0.0, |s| s * 1000.0)
}

/// Fills the store (most jobs run to success, some die, some wait), serves
/// the dashboard on loopback and times each page from request to last byte.
async fn dashboard(
    store: Arc<dyn Store>,
    jobs: usize,
    requests: usize,
) -> anyhow::Result<Vec<(String, f64)>> {
    let mut engine = engine(store.clone(), 100, true);
    engine.handle("chime.noop", |_job, _ctx| async { Ok(None) });
    let service = engine.service();
    let cancel = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(engine.run(cancel.clone()));
    for i in 0..50 {
        service.schedule_create(typical_schedule(i)?).await?;
    }
    let now = Timestamp::now();
    let waiting = jobs / 10;
    let dead = jobs / 20;
    let mut all = noop_jobs(jobs - waiting - dead, now);
    all.extend(noop_jobs(waiting, now + SignedDuration::from_hours(1)));
    let mut doomed = noop_jobs(dead, now);
    for j in &mut doomed {
        j.job.kind = "no.handler".into();
        j.job.max_attempts = 1;
    }
    all.extend(doomed);
    for chunk in all.chunks(1000) {
        store.jobs_enqueue(chunk.to_vec()).await?;
    }
    service.events.jobs_ready();
    // Until only the future ones wait.
    loop {
        let stats = store.queues_stats().await?;
        let open: u64 = stats.iter().map(|q| q.available + q.running).sum();
        if open == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = chime_server::router(service.clone(), chime_server::Access::Open);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let some_job = store
        .jobs_list(chime_store::JobsList {
            limit: 1,
            ..Default::default()
        })
        .await?
        .pop()
        .map(|j| j.id)
        .unwrap_or_default();
    let deep = store
        .jobs_list(chime_store::JobsList {
            limit: 500,
            ..Default::default()
        })
        .await?
        .pop()
        .map(|j| j.id)
        .unwrap_or_default();
    let schedule = store
        .schedules_list(chime_store::ScheduleList {
            namespace: None,
            search: None,
            after_id: None,
            limit: 1,
        })
        .await?
        .pop()
        .map(|s| s.id)
        .unwrap_or_default();
    let pages = [
        ("overview", "/".to_string()),
        ("schedules", "/schedules".to_string()),
        ("schedule", format!("/schedules/{schedule}")),
        ("jobs", "/jobs".to_string()),
        ("jobs_dead", "/jobs?state=dead".to_string()),
        ("jobs_pending", "/jobs?state=pending".to_string()),
        ("jobs_page_11", format!("/jobs?before={deep}")),
        ("job", format!("/jobs/{some_job}")),
    ];
    let http = reqwest::Client::new();
    let mut out = vec![("jobs_in_store".to_string(), jobs as f64)];
    for (name, path) in pages {
        let mut ms = Vec::with_capacity(requests);
        for _ in 0..requests {
            let started = std::time::Instant::now();
            let resp = http.get(format!("{base}{path}")).send().await?;
            anyhow::ensure!(resp.status().is_success(), "{path}: {}", resp.status());
            resp.bytes().await?;
            ms.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        ms.sort_by(f64::total_cmp);
        out.push((format!("{name}_p50_ms"), percentile(&ms, 0.5)));
        out.push((format!("{name}_p95_ms"), percentile(&ms, 0.95)));
    }
    cancel.cancel();
    let _ = running.await;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::per_second_p99;

    #[test]
    fn each_whole_second_gets_its_own_p99_and_the_edges_are_left_out() {
        let mut samples = vec![(9, 900.0, 0.0), (13, 900.0, 0.0)];
        samples.extend((0..100).map(|i| (10, f64::from(i), 0.0)));
        samples.extend((0..100).map(|i| (11, if i < 5 { 600.0 } else { 2.0 }, 0.0)));
        samples.push((12, 3.0, 0.0));
        assert_eq!(per_second_p99(&samples, 10, 12), vec![98.0, 600.0, 3.0]);
    }
}
