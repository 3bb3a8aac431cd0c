//! `chime cron next` and `chime cron explain`.

use super::Failure;
use chime_core::{Cron, DstNote, Zone};
use clap::{Args, Subcommand};
use jiff::Timestamp;
use std::io::Write;

#[derive(Subcommand)]
pub enum CronCommand {
    /// Print the next fire times of an expression.
    Next(NextArgs),
    /// Describe an expression in plain English, with its next fires and DST warnings.
    Explain(ExplainArgs),
}

#[derive(Args)]
pub struct Common {
    /// The cron expression (5, 6 or 7 fields, or a macro such as @daily or "@every 90s").
    expr: String,
    /// IANA time zone the expression is evaluated in.
    #[arg(long, default_value = "UTC")]
    tz: String,
    /// Fires strictly after this RFC 3339 instant (default: now).
    #[arg(long)]
    after: Option<String>,
}

#[derive(Args)]
pub struct NextArgs {
    #[command(flatten)]
    common: Common,
    /// How many fire times to print.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    count: u32,
    /// Print a JSON array of RFC 3339 UTC instants.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    common: Common,
    /// How many upcoming fires to show.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    count: u32,
}

pub fn run(cmd: CronCommand) -> Result<(), Failure> {
    match cmd {
        CronCommand::Next(args) => next(args),
        CronCommand::Explain(args) => explain(args),
    }
}

struct Inputs {
    cron: Cron,
    zone: Zone,
    after: Timestamp,
}

fn inputs(c: &Common) -> Result<Inputs, Failure> {
    let cron = Cron::parse(&c.expr).map_err(|e| Failure::Input(e.to_string()))?;
    let zone = Zone::get(&c.tz).map_err(|e| Failure::Input(format!("--tz: {e}")))?;
    let after = match &c.after {
        None => Timestamp::now(),
        Some(text) => text.parse().map_err(|e| {
            Failure::Input(format!(
                "--after {text:?}: not an RFC 3339 instant such as 2026-01-15T10:17:23Z ({e})"
            ))
        })?,
    };
    Ok(Inputs { cron, zone, after })
}

fn utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn local(t: Timestamp, zone: &Zone) -> String {
    t.to_zoned(zone.tz().clone())
        .strftime("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

fn next(args: NextArgs) -> Result<(), Failure> {
    let Inputs { cron, zone, after } = inputs(&args.common)?;
    let fires = cron.fires_after(after, &zone).take(args.count as usize);
    let mut out = std::io::stdout().lock();
    if args.json {
        let list: Vec<String> = fires.map(utc).collect();
        let json = serde_json::to_string(&list).map_err(anyhow::Error::from)?;
        writeln!(out, "{json}")?;
    } else {
        for t in fires {
            writeln!(out, "{}  {}", utc(t), local(t, &zone))?;
        }
    }
    Ok(())
}

fn explain(args: ExplainArgs) -> Result<(), Failure> {
    let Inputs { cron, zone, after } = inputs(&args.common)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} ({})", cron.describe(), zone.name())?;
    let rule = if cron.interval().is_some() {
        "Counts elapsed time from the Unix epoch (a schedule counts from its start_at); DST does not affect it."
    } else if cron.follows_elapsed_time() {
        "Follows elapsed time across DST: wall times skipped by a spring-forward gap do not fire, and a repeated hour fires twice."
    } else {
        "Follows the wall clock across DST: a time skipped by a spring-forward gap fires once when the gap ends, and a repeated time fires once, at its first pass."
    };
    writeln!(out, "{rule}")?;
    writeln!(out, "Next fires after {}:", utc(after))?;
    let mut warnings = Vec::new();
    let mut any = false;
    for t in cron.fires_after(after, &zone).take(args.count as usize) {
        any = true;
        let note = cron.dst_note(t, &zone);
        let mark = if note.is_some() { "!" } else { " " };
        writeln!(out, " {mark} {}   {}", local(t, &zone), utc(t))?;
        if let Some(note) = note {
            warnings.push(warning(t, &zone, note));
        }
    }
    if !any {
        writeln!(
            out,
            "   (none: the expression has no fire after this instant)"
        )?;
    }
    for w in warnings {
        writeln!(out, "warning: {w}")?;
    }
    Ok(())
}

fn warning(t: Timestamp, zone: &Zone, note: DstNote) -> String {
    note.sentence(t, zone)
}
