//! `chime serve`. The scheduler, workers and API land with the single-node
//! issue; until then the command says so instead of pretending to run.

use super::Failure;
use clap::Args;

#[derive(Args)]
pub struct ServeArgs {
    /// Store URL.
    #[arg(long, default_value = "sqlite://chime.db")]
    db: String,
    /// Address of the HTTP API.
    #[arg(long, default_value = "127.0.0.1:7070")]
    listen: String,
}

pub fn run(args: ServeArgs) -> Result<(), Failure> {
    Err(Failure::Other(anyhow::anyhow!(
        "chime serve is not built yet (would use --db {} --listen {}); `chime cron next` and `chime cron explain` work today",
        args.db,
        args.listen
    )))
}
