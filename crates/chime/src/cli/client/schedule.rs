//! `chime schedule …`

use super::job_flags::{document, JobFlags};
use super::render::{self, when};
use super::{segment, Client, Failure};
use chime_core::model::{Job, Occurrence, Schedule};
use chime_server::wire::Page;
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Map, Value};

#[derive(Subcommand)]
pub enum ScheduleCommand {
    /// Create a schedule from flags, a JSON file, or both (flags win).
    Add(AddArgs),
    /// List schedules.
    Ls(LsArgs),
    /// Show one schedule: its definition and next fire.
    Show { id: String },
    /// Change a schedule: flags, or a JSON merge patch with --file.
    Edit(EditArgs),
    /// Stop firing until resumed; running jobs are not touched.
    Pause { id: String },
    /// Fire again from the next instant (missed fires follow the misfire policy).
    Resume { id: String },
    /// Make one job now, outside the schedule's times.
    Trigger { id: String },
    /// Delete a schedule (its jobs stay).
    Rm { id: String },
    /// The occurrence ledger: every fire, skip and miss, newest first.
    History(HistoryArgs),
}

#[derive(Args)]
pub struct SpecFlags {
    /// Name shown in lists.
    #[arg(long)]
    name: Option<String>,
    /// Cron expression (5 or 6 fields, or @daily and friends).
    #[arg(long, conflicts_with_all = ["every", "at"])]
    cron: Option<String>,
    /// Fixed interval, e.g. 30s, 5m, 1h.
    #[arg(long, conflicts_with = "at")]
    every: Option<String>,
    /// One fire at this RFC 3339 instant.
    #[arg(long)]
    at: Option<String>,
    /// IANA time zone of the cron expression (default: the server's).
    #[arg(long, alias = "timezone")]
    tz: Option<String>,
    /// What missed fires become: fire_once, fire_all or skip.
    #[arg(long)]
    misfire: Option<String>,
    /// When the previous job still runs: allow, skip or replace.
    #[arg(long)]
    overlap: Option<String>,
    /// Spread each fire by up to this many milliseconds.
    #[arg(long)]
    jitter_ms: Option<u64>,
    #[command(flatten)]
    job: JobFlags,
}

impl SpecFlags {
    fn fields(&self) -> Result<Map<String, Value>, Failure> {
        let mut m = Map::new();
        let text = [
            ("name", &self.name),
            ("cron", &self.cron),
            ("every", &self.every),
            ("at", &self.at),
            ("timezone", &self.tz),
            ("misfire", &self.misfire),
            ("overlap", &self.overlap),
        ];
        for (k, v) in text {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        // One trigger replaces another (an edit from cron to every, or a
        // flag over a file's): the others are cleared.
        let triggers = ["cron", "every", "at"];
        if triggers.iter().any(|k| m.contains_key(*k)) {
            for k in triggers {
                m.entry(k).or_insert(Value::Null);
            }
        }
        if let Some(v) = self.jitter_ms {
            m.insert("jitter_ms".into(), json!(v));
        }
        let job = self.job.fields()?;
        if !job.is_empty() {
            m.insert("job".into(), Value::Object(job));
        }
        Ok(m)
    }
}

#[derive(Args)]
pub struct AddArgs {
    /// A schedule as JSON (the API's body); `-` reads standard input.
    #[arg(long, short)]
    file: Option<String>,
    /// Create it paused.
    #[arg(long)]
    paused: bool,
    #[command(flatten)]
    spec: SpecFlags,
}

#[derive(Args)]
pub struct EditArgs {
    id: String,
    /// A JSON merge patch of the definition; `-` reads standard input.
    #[arg(long, short)]
    file: Option<String>,
    /// Apply only if the schedule is still at this version.
    #[arg(long)]
    version: Option<u64>,
    #[command(flatten)]
    spec: SpecFlags,
}

#[derive(Args)]
pub struct LsArgs {
    /// Names containing this text.
    #[arg(long)]
    search: Option<String>,
    #[arg(long)]
    namespace: Option<String>,
    /// At most this many (1-500).
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Every page, not just the first.
    #[arg(long)]
    all: bool,
}

#[derive(Args)]
pub struct HistoryArgs {
    id: String,
    #[arg(long, default_value_t = 20)]
    limit: u32,
}

pub async fn run(client: &Client, cmd: ScheduleCommand) -> Result<(), Failure> {
    match cmd {
        ScheduleCommand::Add(a) => {
            let mut doc = document(a.file.as_deref(), a.spec.fields()?)?;
            if a.paused {
                doc["paused"] = json!(true);
            }
            if doc.get("job").is_none() {
                doc["job"] = json!({});
            }
            let s: Schedule = client.post("/schedules", Some(&doc)).await?;
            client.output(&s, |s| {
                println!("created schedule {}", s.id);
                show(s);
            })
        }
        ScheduleCommand::Ls(a) => {
            let mut items: Vec<Schedule> = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let mut q = vec![("limit", a.limit.to_string())];
                let optional = [
                    ("search", &a.search),
                    ("namespace", &a.namespace),
                    ("after", &after),
                ];
                for (k, v) in optional {
                    if let Some(v) = v {
                        q.push((k, v.clone()));
                    }
                }
                let page: Page<Schedule> = client.get("/schedules", &q).await?;
                items.extend(page.items);
                match page.next {
                    Some(next) if a.all => after = Some(next),
                    _ => break,
                }
            }
            client.output(&items, |items| list(items))
        }
        ScheduleCommand::Show { id } => {
            let s: Schedule = client
                .get(&format!("/schedules/{}", segment(&id)), &[])
                .await?;
            client.output(&s, show)
        }
        ScheduleCommand::Edit(a) => {
            let mut patch = document(a.file.as_deref(), a.spec.fields()?)?;
            if patch.as_object().is_some_and(Map::is_empty) {
                return Err(Failure::Input(
                    "schedule edit: nothing to change; give a flag such as --cron, or --file"
                        .into(),
                ));
            }
            if let Some(v) = a.version {
                patch["version"] = json!(v);
            }
            let path = format!("/schedules/{}", segment(&a.id));
            let s: Schedule = client.call(Method::PATCH, &path, &[], Some(&patch)).await?;
            client.output(&s, |s| {
                println!("updated schedule {} (version {})", s.id, s.version);
                show(s);
            })
        }
        ScheduleCommand::Pause { id } => state_change(client, &id, "pause").await,
        ScheduleCommand::Resume { id } => state_change(client, &id, "resume").await,
        ScheduleCommand::Trigger { id } => {
            let job: Job = client
                .post(&format!("/schedules/{}/trigger", segment(&id)), None)
                .await?;
            client.output(&job, |j| {
                println!("triggered job {} on queue {}", j.id, j.job.queue)
            })
        }
        ScheduleCommand::Rm { id } => {
            let path = format!("/schedules/{}", segment(&id));
            let _: Value = client.call(Method::DELETE, &path, &[], None).await?;
            client.output(&json!({"deleted": id}), |_| {
                println!("deleted schedule {id}")
            })
        }
        ScheduleCommand::History(a) => {
            let path = format!("/schedules/{}", segment(&a.id));
            let s: Schedule = client.get(&path, &[]).await?;
            let page: Page<Occurrence> = client
                .get(
                    &format!("{path}/occurrences"),
                    &[("limit", a.limit.to_string())],
                )
                .await?;
            let zone = s.spec.timezone.as_deref();
            client.output(&page, |p| history(&p.items, zone))
        }
    }
}

async fn state_change(client: &Client, id: &str, action: &str) -> Result<(), Failure> {
    let s: Schedule = client
        .post(&format!("/schedules/{}/{action}", segment(id)), None)
        .await?;
    client.output(&s, |s| {
        let state = if s.spec.paused { "paused" } else { "active" };
        println!(
            "schedule {} is {state}; next fire {}",
            s.id,
            when(s.next_fire_at, s.spec.timezone.as_deref())
        );
    })
}

/// `cron 0 9 * * MON-FRI`, `every 5m`, `at 2026-…`.
fn trigger_text(s: &Schedule) -> String {
    match (&s.spec.cron, &s.spec.every, s.spec.at) {
        (Some(c), _, _) => format!("cron {c}"),
        (_, Some(e), _) => format!("every {e}"),
        (_, _, Some(at)) => format!("at {at}"),
        _ => "-".into(),
    }
}

fn list(items: &[Schedule]) {
    let rows = items
        .iter()
        .map(|s| {
            [
                s.id.clone(),
                render::clip(&s.spec.name, 32),
                trigger_text(s),
                s.spec.timezone.clone().unwrap_or_else(|| "(server)".into()),
                if s.spec.paused { "paused" } else { "active" }.into(),
                when(s.next_fire_at, s.spec.timezone.as_deref()),
            ]
        })
        .collect();
    render::table(
        "no schedules",
        ["ID", "NAME", "WHEN", "ZONE", "STATE", "NEXT FIRE"],
        rows,
    );
}

fn show(s: &Schedule) {
    let zone = s.spec.timezone.as_deref();
    let target = match &s.spec.job.target {
        Some(t) => serde_json::to_string(t).unwrap_or_default(),
        None => format!("handler for kind {:?}", s.spec.job.kind),
    };
    render::fields(&[
        ("id", s.id.clone()),
        ("name", s.spec.name.clone()),
        ("namespace", s.spec.namespace.clone()),
        ("when", trigger_text(s)),
        ("zone", zone.unwrap_or("(server default)").to_string()),
        (
            "state",
            if s.spec.paused { "paused" } else { "active" }.into(),
        ),
        ("next fire", when(s.next_fire_at, zone)),
        ("queue", s.spec.job.queue.clone()),
        ("kind", s.spec.job.kind.clone()),
        ("target", target),
        ("misfire", render::word(&s.spec.misfire.policy)),
        ("overlap", render::word(&s.spec.overlap)),
        ("version", s.version.to_string()),
        ("created", when(Some(s.created_at), zone)),
        ("updated", when(Some(s.updated_at), zone)),
    ]);
}

fn history(items: &[Occurrence], zone: Option<&str>) {
    let rows = items
        .iter()
        .map(|o| {
            let outcome = match o.count {
                1 => o.outcome.as_str().to_string(),
                n => format!("{} ×{n}", o.outcome.as_str()),
            };
            [
                when(Some(o.scheduled_for), zone),
                outcome,
                render::opt(o.job_id.as_deref()),
                render::opt(o.reason.as_deref()),
            ]
        })
        .collect();
    render::table(
        "no occurrences yet",
        ["SCHEDULED FOR", "OUTCOME", "JOB", "REASON"],
        rows,
    );
}
