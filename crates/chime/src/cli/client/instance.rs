//! `chime instance …`

use super::render::{self, when};
use super::{Client, Failure};
use chime_server::wire::{Instance, List};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum InstanceCommand {
    /// The live instances and the schedule buckets each holds.
    Ls,
}

pub async fn run(client: &Client, cmd: InstanceCommand) -> Result<(), Failure> {
    match cmd {
        InstanceCommand::Ls => {
            let list: List<Instance> = client.get("/instances", &[]).await?;
            client.output(&list, |l| {
                let rows = l
                    .items
                    .iter()
                    .map(|i| {
                        [
                            i.id.clone(),
                            i.buckets.to_string(),
                            when(Some(i.started_at), None),
                            when(Some(i.expires_at), None),
                        ]
                    })
                    .collect();
                render::table(
                    "no live instances",
                    ["INSTANCE", "BUCKETS", "STARTED", "LEASE UNTIL"],
                    rows,
                );
            })
        }
    }
}
