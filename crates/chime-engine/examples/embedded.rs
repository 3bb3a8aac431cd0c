//! Embedding chime in a Rust service: register handlers by kind, add a
//! schedule, and let the engine fire and run it.
//!
//!     cargo run -p chime-engine --example embedded
//!
//! It uses a SQLite file in a temp dir, runs until three reports were made,
//! then shuts down gracefully.

use chime_core::model::ScheduleSpec;
use chime_core::time::SystemClock;
use chime_engine::{Engine, EngineConfig, JobError};
use chime_store::sqlite::SqliteStore;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("chime-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store =
        Arc::new(SqliteStore::open(&format!("sqlite://{}", dir.join("chime.db").display())).await?);
    let mut engine = Engine::new(
        store,
        Arc::new(SystemClock),
        EngineConfig::single_node("example"),
    );

    let (done, mut reports) = mpsc::unbounded_channel();
    engine.handle("report.daily", move |job, ctx| {
        let done = done.clone();
        async move {
            let team = job.job.payload["team"]
                .as_str()
                .ok_or_else(|| JobError::Fail("payload.team is missing".into()))?;
            // The idempotency key is the fire key: the same across retries.
            println!(
                "report for {team}, attempt {}, key {}",
                ctx.attempt, ctx.idempotency_key
            );
            let _ = done.send(());
            Ok(Some(format!("sent to {team}")))
        }
    });

    let spec: ScheduleSpec = serde_json::from_value(serde_json::json!({
        "name": "team report",
        "every": "1s",
        "job": {"kind": "report.daily", "payload": {"team": "payments"}}
    }))?;
    let schedule = engine.service().schedule_create(spec).await?;
    println!(
        "schedule {} fires first at {:?}",
        schedule.id, schedule.next_fire_at
    );

    let cancel = CancellationToken::new();
    let running = tokio::spawn(engine.run(cancel.clone()));
    for _ in 0..3 {
        reports.recv().await;
    }
    cancel.cancel();
    running.await??;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
