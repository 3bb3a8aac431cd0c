//! The short form of the chaos test (the long one: scripts/chaos): three
//! real instances on a private Redis, then PostgreSQL; kill -9 and restart
//! every 10–20 s, one instance SIGSTOPped past its lease, the store
//! restarted once. Every expected fire must have exactly one job.

use chime_chaos::{run, Backend, Plan};
use std::time::Duration;

fn plan(backend: Backend) -> Plan {
    Plan {
        backend,
        chime: env!("CARGO_BIN_EXE_chime").into(),
        instances: 3,
        schedules: 200,
        duration: Duration::from_secs(50),
        kill_every: Duration::from_secs(10),
        pause_for: Duration::from_secs(8),
        keep: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_short_on_redis() {
    let report = run(&plan(Backend::Redis)).await.expect("chaos run");
    assert!(report.passed(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_short_on_postgres() {
    let report = run(&plan(Backend::Postgres)).await.expect("chaos run");
    assert!(report.passed(), "{report}");
}
