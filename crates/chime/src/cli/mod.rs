//! Command-line interface (clap). Exit status: 0 success, 1 failure,
//! 2 bad input (usage, expression, zone or instant), as DESIGN §6 asks;
//! client commands add 3 not found, 4 not allowed and 5 conflict.

mod client;
mod config;
mod cron;
mod schedules_file;
mod serve;
mod token;

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
    Serve(config::ServeArgs),
    /// Check a configuration without starting anything.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Work with cron expressions: next fire times, plain-English explanations.
    #[command(subcommand)]
    Cron(cron::CronCommand),
    /// Create, list, change and fire schedules (over the API).
    Schedule {
        #[command(flatten)]
        client: client::ClientArgs,
        #[command(subcommand)]
        command: client::ScheduleCommand,
    },
    /// Enqueue, inspect, retry and cancel jobs (over the API).
    Job {
        #[command(flatten)]
        client: client::ClientArgs,
        #[command(subcommand)]
        command: client::JobCommand,
    },
    /// Queue counts; pause and resume queues (over the API).
    Queue {
        #[command(flatten)]
        client: client::ClientArgs,
        #[command(subcommand)]
        command: client::QueueCommand,
    },
    /// Turn other schedulers' definitions into schedules (over the API).
    Import {
        #[command(flatten)]
        client: client::ClientArgs,
        #[command(subcommand)]
        command: client::import::ImportCommand,
    },
    /// API tokens: create, list, revoke (on the store directly).
    Token(token::TokenArgs),
    /// The instances of this deployment (over the API).
    Instance {
        #[command(flatten)]
        client: client::ClientArgs,
        #[command(subcommand)]
        command: client::InstanceCommand,
    },
}

/// An error with the exit status it maps to.
pub enum Failure {
    /// Bad input from the user: exit status 2.
    Input(String),
    /// Anything else: exit status 1.
    Other(anyhow::Error),
    /// The API refused a request: the status picks the exit status.
    Api { status: u16, message: String },
}

impl Failure {
    /// The one line shown to the user.
    pub fn message(&self) -> String {
        match self {
            Failure::Input(msg) => msg.clone(),
            Failure::Other(e) => format!("{e:#}"),
            Failure::Api { status, message } => format!("{message} (HTTP {status})"),
        }
    }

    fn exit_status(&self) -> u8 {
        match self {
            Failure::Input(_) => 2,
            Failure::Other(_) => 1,
            Failure::Api { status, .. } => match status {
                404 => 3,
                401 | 403 => 4,
                409 => 5,
                400..=499 => 2,
                _ => 1,
            },
        }
    }
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
        Command::Config(cmd) => config::run(cmd),
        Command::Schedule { client, command } => client::block_on(async move {
            client::schedule::run(&client::Client::new(&client)?, command).await
        }),
        Command::Job { client, command } => client::block_on(async move {
            client::job::run(&client::Client::new(&client)?, command).await
        }),
        Command::Queue { client, command } => client::block_on(async move {
            client::queue::run(&client::Client::new(&client)?, command).await
        }),
        Command::Token(args) => token::run(args),
        Command::Import { client, command } => client::block_on(async move {
            client::import::run(&client::Client::new(&client)?, command).await
        }),
        Command::Instance { client, command } => client::block_on(async move {
            client::instance::run(&client::Client::new(&client)?, command).await
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let code = failure.exit_status();
            // One line, so scripts can show it as is.
            let msg = failure.message();
            let _ = writeln!(std::io::stderr(), "error: {}", msg.replace('\n', " "));
            ExitCode::from(code)
        }
    }
}
