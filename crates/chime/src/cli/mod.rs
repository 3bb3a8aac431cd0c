//! Command-line interface (clap). Exit status: 0 success, 1 failure,
//! 2 bad input (usage, expression, zone or instant), as DESIGN §6 asks.

mod cron;
mod serve;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "chime",
    version,
    about = "A distributed cron and job scheduler"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the scheduler, workers and API.
    Serve(serve::ServeArgs),
    /// Work with cron expressions: next fire times, plain-English explanations.
    #[command(subcommand)]
    Cron(cron::CronCommand),
}

/// An error with the exit status it maps to.
pub enum Failure {
    /// Bad input from the user: exit status 2.
    Input(String),
    /// Anything else: exit status 1.
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Other(e.into())
    }
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Cron(cmd) => cron::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(msg)) => {
            // One line, so scripts can show it as is.
            let _ = writeln!(std::io::stderr(), "error: {}", msg.replace('\n', " "));
            ExitCode::from(2)
        }
        Err(Failure::Other(e)) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::from(1)
        }
    }
}
