//! `chime job …`

use super::job_flags::{document, JobFlags};
use super::render::{self, when};
use super::{segment, Client, Failure};
use chime_core::model::Job;
use chime_server::wire::{JobDetail, Page};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Value};

#[derive(Subcommand)]
pub enum JobCommand {
    /// Enqueue a job from flags, a JSON file, or both (flags win).
    Enqueue(EnqueueArgs),
    /// List jobs, newest first.
    Ls(LsArgs),
    /// Show one job with its attempts.
    Show { id: String },
    /// Run a dead or cancelled job again, with a fresh attempt budget.
    Retry { id: String },
    /// Cancel a pending or running job.
    Cancel { id: String },
    /// Delete a finished job and its attempts.
    Rm { id: String },
}

#[derive(Args)]
pub struct EnqueueArgs {
    /// A job as JSON (the API's body); `-` reads standard input.
    #[arg(long, short)]
    file: Option<String>,
    /// Run after this long, e.g. 30s, 5m, 1h.
    #[arg(long, conflicts_with = "run_at")]
    delay: Option<String>,
    /// Run at this RFC 3339 instant.
    #[arg(long)]
    run_at: Option<String>,
    /// Enqueuing again while a job with this key is pending or running
    /// returns that job.
    #[arg(long)]
    unique_key: Option<String>,
    #[command(flatten)]
    job: JobFlags,
}

#[derive(Args)]
pub struct LsArgs {
    #[arg(long)]
    queue: Option<String>,
    /// pending, running, succeeded, dead or cancelled.
    #[arg(long)]
    state: Option<String>,
    /// Jobs fired by this schedule.
    #[arg(long)]
    schedule: Option<String>,
    #[arg(long)]
    namespace: Option<String>,
    /// At most this many (1-500).
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

pub async fn run(client: &Client, cmd: JobCommand) -> Result<(), Failure> {
    match cmd {
        JobCommand::Enqueue(a) => {
            let mut doc = document(a.file.as_deref(), a.job.fields()?)?;
            if let Some(d) = &a.delay {
                doc["delay_ms"] = json!(delay_ms(d)?);
            }
            if let Some(t) = &a.run_at {
                doc["run_at"] = json!(t);
            }
            if let Some(k) = &a.unique_key {
                doc["unique_key"] = json!(k);
            }
            let job: Job = client.post("/jobs", Some(&doc)).await?;
            client.output(&job, |j| {
                println!(
                    "enqueued job {} on queue {}, runs at {}",
                    j.id,
                    j.job.queue,
                    when(Some(j.run_at), None)
                )
            })
        }
        JobCommand::Ls(a) => {
            let mut q = vec![("limit", a.limit.to_string())];
            let optional = [
                ("queue", &a.queue),
                ("state", &a.state),
                ("schedule_id", &a.schedule),
                ("namespace", &a.namespace),
            ];
            for (k, v) in optional {
                if let Some(v) = v {
                    q.push((k, v.clone()));
                }
            }
            let page: Page<Job> = client.get("/jobs", &q).await?;
            client.output(&page, |p| list(&p.items))
        }
        JobCommand::Show { id } => {
            let d: JobDetail = client.get(&format!("/jobs/{}", segment(&id)), &[]).await?;
            client.output(&d, show)
        }
        JobCommand::Retry { id } => action(client, &id, "retry").await,
        JobCommand::Cancel { id } => action(client, &id, "cancel").await,
        JobCommand::Rm { id } => {
            let path = format!("/jobs/{}", segment(&id));
            let _: Value = client.call(Method::DELETE, &path, &[], None).await?;
            client.output(&json!({"deleted": id}), |_| println!("deleted job {id}"))
        }
    }
}

async fn action(client: &Client, id: &str, action: &str) -> Result<(), Failure> {
    let job: Job = client
        .post(&format!("/jobs/{}/{action}", segment(id)), None)
        .await?;
    client.output(&job, |j| println!("job {} is {}", j.id, j.state.as_str()))
}

/// `90s`, `5m`, `1h30m` or plain milliseconds, as milliseconds.
fn delay_ms(text: &str) -> Result<u64, Failure> {
    let bad = || {
        Failure::Input(format!(
            "--delay {text:?}: expected a duration such as 30s, 5m or 1h30m"
        ))
    };
    if let Ok(ms) = text.parse::<u64>() {
        return Ok(ms);
    }
    let span: jiff::Span = text.parse().map_err(|_| bad())?;
    let d = jiff::SignedDuration::try_from(span).map_err(|_| bad())?;
    u64::try_from(d.as_millis()).map_err(|_| bad())
}

fn list(items: &[Job]) {
    let rows = items
        .iter()
        .map(|j| {
            [
                j.id.clone(),
                j.job.queue.clone(),
                render::clip(&j.job.kind, 24),
                j.state.as_str().to_string(),
                format!("{}/{}", j.attempt, j.job.max_attempts),
                when(Some(j.run_at), None),
                render::clip(j.last_error.as_deref().unwrap_or("-"), 40),
            ]
        })
        .collect();
    render::table(
        "no jobs",
        [
            "ID",
            "QUEUE",
            "KIND",
            "STATE",
            "ATTEMPT",
            "RUN AT",
            "LAST ERROR",
        ],
        rows,
    );
}

fn show(d: &JobDetail) {
    let j = &d.job;
    render::fields(&[
        ("id", j.id.clone()),
        ("queue", j.job.queue.clone()),
        ("kind", j.job.kind.clone()),
        ("state", j.state.as_str().to_string()),
        (
            "attempt",
            format!("{} of {}", j.attempt, j.job.max_attempts),
        ),
        ("priority", j.job.priority.to_string()),
        ("run at", when(Some(j.run_at), None)),
        ("created", when(Some(j.created_at), None)),
        ("finished", when(j.finished_at, None)),
        ("schedule", render::opt(j.schedule_id.as_deref())),
        ("scheduled for", when(j.scheduled_for, None)),
        ("idempotency key", d.idempotency_key.clone()),
        ("payload", j.job.payload.to_string()),
        ("last error", render::opt(j.last_error.as_deref())),
    ]);
    println!();
    let rows = d
        .attempts
        .iter()
        .map(|a| {
            [
                a.attempt.to_string(),
                a.worker.clone(),
                when(Some(a.started_at), None),
                when(a.finished_at, None),
                a.outcome
                    .map(|o| o.as_str().to_string())
                    .unwrap_or_else(|| "running".into()),
                render::clip(a.error.as_deref().unwrap_or("-"), 60),
            ]
        })
        .collect();
    render::table(
        "no attempts yet",
        ["#", "WORKER", "STARTED", "FINISHED", "OUTCOME", "ERROR"],
        rows,
    );
}
