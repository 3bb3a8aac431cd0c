//! `chime import crontab FILE`: every entry of a crontab becomes a schedule
//! with a command target (the server must allow commands); lines chime
//! cannot honour are listed with the reason, and the exit status is 2.

use super::render;
use super::{Client, Failure};
use chime_core::crontab::{self, Entry};
use chime_core::model::Schedule;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import a crontab (crontab -l > FILE, or /etc/crontab with --system).
    Crontab(CrontabArgs),
}

#[derive(Args)]
pub struct CrontabArgs {
    /// The crontab file; `-` reads standard input.
    file: String,
    /// The /etc/crontab form: a user field after the time fields.
    #[arg(long)]
    system: bool,
    /// Queue of the jobs.
    #[arg(long, default_value = "default")]
    queue: String,
    /// Zone of entries with no CRON_TZ above them (default: the server's).
    #[arg(long)]
    tz: Option<String>,
    /// Show what would be created without creating anything.
    #[arg(long)]
    dry_run: bool,
}

pub async fn run(client: &Client, cmd: ImportCommand) -> Result<(), Failure> {
    let ImportCommand::Crontab(a) = cmd;
    let text = if a.file == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| Failure::Input(format!("reading standard input: {e}")))?
    } else {
        std::fs::read_to_string(&a.file).map_err(|e| Failure::Input(format!("{}: {e}", a.file)))?
    };
    let tab = crontab::parse(&text, a.system);
    let mut rows = Vec::new();
    let mut created = Vec::new();
    for entry in &tab.entries {
        let spec = spec(entry, &a);
        let result = if a.dry_run {
            "would create".to_string()
        } else {
            let s: Schedule = client.post("/schedules", Some(&spec)).await?;
            let id = s.id.clone();
            created.push(s);
            format!("created {id}")
        };
        rows.push([
            entry.line.to_string(),
            render::clip(&entry_text(entry), 60),
            result,
        ]);
    }
    for u in &tab.unsupported {
        rows.push([
            u.line.to_string(),
            render::clip(&u.text, 60),
            format!("not imported: {}", u.reason),
        ]);
    }
    rows.sort_by_key(|r| r[0].parse::<usize>().unwrap_or(0));
    let report = json!({
        "created": created,
        "unsupported": tab.unsupported.iter().map(|u| json!({"line": u.line, "text": u.text, "reason": u.reason})).collect::<Vec<_>>(),
    });
    client.output(&report, |_| {
        render::table("an empty crontab", ["LINE", "ENTRY", "RESULT"], rows)
    })?;
    if tab.unsupported.is_empty() {
        Ok(())
    } else {
        Err(Failure::Input(format!(
            "{} crontab line(s) not imported; see the table above",
            tab.unsupported.len()
        )))
    }
}

fn entry_text(e: &Entry) -> String {
    format!("{} {}", e.cron, e.command)
}

/// The schedule for one entry: the command through its shell, with the
/// crontab's variables; cron does not catch up missed runs, nor does this.
fn spec(e: &Entry, a: &CrontabArgs) -> Value {
    let mut env: serde_json::Map<String, Value> =
        e.env.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let command = match &e.stdin {
        Some(input) => {
            env.insert("CHIME_CRONTAB_STDIN".into(), json!(input));
            format!("printf '%s' \"$CHIME_CRONTAB_STDIN\" | ( {} )", e.command)
        }
        None => e.command.clone(),
    };
    let mut spec = json!({
        "name": format!("crontab line {}: {}", e.line, render::clip(&e.command, 80)),
        "cron": e.cron,
        "misfire": "skip",
        "job": {
            "queue": a.queue,
            "kind": "crontab",
            "target": {"command": {"argv": [e.shell, "-c", command], "env": env}},
        },
    });
    if let Some(tz) = e.timezone.as_ref().or(a.tz.as_ref()) {
        spec["timezone"] = json!(tz);
    }
    spec
}
