//! One chaos run: start everything, disrupt on a timeline, stop, check.

use crate::checker::{check, Report};
use crate::instances::Instance;
use crate::receiver::Receiver;
use crate::server::Server;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Redis,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub backend: Backend,
    /// The `chime` binary under test.
    pub chime: PathBuf,
    pub instances: usize,
    pub schedules: usize,
    pub duration: Duration,
    /// A random instance is killed and restarted every this-to-twice-this.
    pub kill_every: Duration,
    /// How long one instance stays SIGSTOPped (past its 5 s lease).
    pub pause_for: Duration,
    /// Keep the run's directory (logs, store data) for a look afterwards.
    pub keep: bool,
}

#[derive(Debug)]
enum Event {
    Kill,
    Pause,
    Resume,
    RestartStore,
}

/// Longer than the misfire threshold (10 s): a fire due before the end of
/// the disruption is either written by then or recorded as missed.
const SETTLE: Duration = Duration::from_secs(12);

fn log(start: Instant, what: &str) {
    eprintln!("[chaos {:>6.1}s] {what}", start.elapsed().as_secs_f64());
}

pub async fn run(plan: &Plan) -> Result<Report> {
    let dir = tempfile::Builder::new().prefix("chime-chaos-").tempdir()?;
    let start = Instant::now();
    let mut server = match plan.backend {
        Backend::Redis => Server::start_redis(dir.path())?,
        Backend::Postgres => Server::start_postgres(dir.path())?,
    };
    let url = server.url();
    log(start, &format!("store up at {url}"));
    let mut instances = Vec::new();
    for n in 0..plan.instances {
        instances.push(Instance::start(&plan.chime, &url, dir.path(), n)?);
    }
    for i in &instances {
        i.wait_ready().await?;
    }
    let receiver = Receiver::start().await?;
    let client = reqwest::Client::new();
    let mut ids = Vec::with_capacity(plan.schedules);
    for n in 0..plan.schedules {
        let body = serde_json::json!({
            "name": format!("chaos-{n}"), "every": "1s",
            "job": {"kind": "chaos", "target": {"http": {"url": receiver.url()}}}
        });
        let r = client
            .post(instances[n % instances.len()].url("/api/v1/schedules"))
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
        let created: serde_json::Value = r.json().await?;
        ids.push(
            created["id"]
                .as_str()
                .context("schedule id in the reply")?
                .to_string(),
        );
    }
    let from = jiff::Timestamp::now().as_second() + 2;
    log(
        start,
        &format!(
            "{} schedules created; disrupting for {:?}",
            ids.len(),
            plan.duration
        ),
    );

    // The timeline: kills at random gaps, one pause and one store restart.
    let t0 = Instant::now();
    let mut events: Vec<(Duration, Event)> = Vec::new();
    let mut t = Duration::ZERO;
    loop {
        t += plan.kill_every + plan.kill_every.mul_f64(fastrand::f64());
        if t >= plan.duration {
            break;
        }
        events.push((t, Event::Kill));
    }
    let pause_at = plan.duration.mul_f64(0.3);
    events.push((pause_at, Event::Pause));
    events.push((pause_at + plan.pause_for, Event::Resume));
    events.push((plan.duration.mul_f64(0.65), Event::RestartStore));
    events.sort_by_key(|(at, _)| *at);
    let mut paused: Option<usize> = None;
    for (at, event) in events {
        if let Some(wait) = at.checked_sub(t0.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        match event {
            Event::Kill => {
                let candidates: Vec<usize> = (0..instances.len())
                    .filter(|i| Some(*i) != paused)
                    .collect();
                let victim = candidates[fastrand::usize(..candidates.len())];
                log(start, &format!("kill -9 instance {victim}; restarting it"));
                instances[victim].kill_9();
                tokio::time::sleep(Duration::from_secs(1)).await;
                instances[victim].restart()?;
            }
            Event::Pause => {
                let victim = fastrand::usize(..instances.len());
                log(
                    start,
                    &format!("SIGSTOP instance {victim} for {:?}", plan.pause_for),
                );
                instances[victim].pause();
                paused = Some(victim);
            }
            Event::Resume => {
                if let Some(victim) = paused.take() {
                    log(start, &format!("SIGCONT instance {victim}"));
                    instances[victim].resume();
                }
            }
            Event::RestartStore => {
                log(start, "restarting the store");
                server.restart()?;
                log(start, "store back");
            }
        }
    }
    if let Some(wait) = plan.duration.checked_sub(t0.elapsed()) {
        tokio::time::sleep(wait).await;
    }
    // Every fire due by the end of the disruption is checked; a quiet spell
    // longer than the misfire threshold lets the late ones land first.
    let to = jiff::Timestamp::now().as_second();
    log(start, "disruption over; letting late fires land");
    tokio::time::sleep(SETTLE).await;
    log(start, "stopping the instances");
    for i in &mut instances {
        i.stop();
    }
    let store: Arc<dyn chime_store::Store> = match plan.backend {
        Backend::Redis => Arc::new(chime_store::redis::RedisStore::open(&url).await?),
        Backend::Postgres => Arc::new(chime_store::postgres::PostgresStore::open(&url).await?),
    };
    let report = check(store.as_ref(), &ids, from, to, &receiver.deliveries()).await?;
    log(start, &format!("{report}"));
    drop(instances);
    drop(server);
    if plan.keep {
        let kept = dir.keep();
        log(start, &format!("kept {}", kept.display()));
    }
    Ok(report)
}
