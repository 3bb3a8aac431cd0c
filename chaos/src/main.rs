//! `chime-chaos`: the chaos test from the command line (see scripts/chaos).

use anyhow::{bail, Context, Result};
use chime_chaos::{run, Backend, Plan};
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
struct Cli {
    #[arg(long, value_enum)]
    backend: Backend,
    /// Seconds of disruption (the long form runs 600).
    #[arg(long, default_value_t = 120)]
    seconds: u64,
    #[arg(long, default_value_t = 500)]
    schedules: usize,
    #[arg(long, default_value_t = 3)]
    instances: usize,
    /// The chime binary; default: beside this one.
    #[arg(long)]
    chime: Option<PathBuf>,
    /// Keep logs and store data.
    #[arg(long)]
    keep: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let chime = match cli.chime {
        Some(p) => p,
        None => std::env::current_exe()?
            .parent()
            .context("no directory beside chime-chaos")?
            .join("chime"),
    };
    let plan = Plan {
        backend: cli.backend,
        chime,
        instances: cli.instances,
        schedules: cli.schedules,
        duration: Duration::from_secs(cli.seconds),
        kill_every: Duration::from_secs(10),
        pause_for: Duration::from_secs(8),
        keep: cli.keep,
    };
    let report = run(&plan).await?;
    println!("{report}");
    if !report.passed() {
        bail!("chaos check failed");
    }
    Ok(())
}
