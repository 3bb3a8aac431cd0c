//! `chime queue …`

use super::render;
use super::{segment, Client, Failure};
use chime_server::wire::{List, Queue};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum QueueCommand {
    /// Every queue with its jobs by state.
    Ls,
    /// Stop claiming from a queue on every instance; jobs keep arriving.
    Pause { queue: String },
    /// Claim from the queue again.
    Resume { queue: String },
}

pub async fn run(client: &Client, cmd: QueueCommand) -> Result<(), Failure> {
    match cmd {
        QueueCommand::Ls => {
            let list: List<Queue> = client.get("/queues", &[]).await?;
            client.output(&list, |l| table(&l.items))
        }
        QueueCommand::Pause { queue } => set(client, &queue, "pause").await,
        QueueCommand::Resume { queue } => set(client, &queue, "resume").await,
    }
}

async fn set(client: &Client, queue: &str, action: &str) -> Result<(), Failure> {
    let q: Queue = client
        .post(&format!("/queues/{}/{action}", segment(queue)), None)
        .await?;
    client.output(&q, |q| {
        println!(
            "queue {} is {}",
            q.name,
            if q.paused { "paused" } else { "active" }
        )
    })
}

fn table(items: &[Queue]) {
    let rows = items
        .iter()
        .map(|q| {
            let c = &q.counts;
            [
                q.name.clone(),
                if q.paused { "paused" } else { "active" }.into(),
                c.available.to_string(),
                c.scheduled.to_string(),
                c.running.to_string(),
                c.succeeded.to_string(),
                c.dead.to_string(),
                c.cancelled.to_string(),
            ]
        })
        .collect();
    render::table(
        "no queues yet",
        [
            "QUEUE",
            "STATE",
            "AVAILABLE",
            "SCHEDULED",
            "RUNNING",
            "SUCCEEDED",
            "DEAD",
            "CANCELLED",
        ],
        rows,
    );
}
