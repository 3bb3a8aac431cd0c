//! Retention: removes finished jobs (with their attempts) and ledger entries
//! older than their keep periods, in small batches so the store stays responsive.

use chime_core::time::Clock;
use chime_store::{RetentionPrune, Store};
use jiff::SignedDuration;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

#[derive(Debug, Clone)]
pub struct RetentionConfig {
    pub keep_finished_jobs: SignedDuration,
    /// Queues that keep finished jobs longer or shorter than the rest.
    pub queues: Vec<(String, SignedDuration)>,
    pub keep_occurrences: SignedDuration,
    pub every: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            keep_finished_jobs: SignedDuration::from_hours(24 * 7),
            queues: Vec::new(),
            keep_occurrences: SignedDuration::from_hours(24 * 30),
            every: Duration::from_secs(60),
        }
    }
}

pub struct Retention {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    cfg: RetentionConfig,
}

impl Retention {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, cfg: RetentionConfig) -> Retention {
        Retention { store, clock, cfg }
    }

    pub async fn run(self, cancel: CancellationToken) {
        self.run_loop(cancel)
            .instrument(tracing::info_span!("retention"))
            .await
    }

    async fn run_loop(self, cancel: CancellationToken) {
        loop {
            let now = self.clock.now();
            let prune = RetentionPrune {
                jobs_finished_before: now - self.cfg.keep_finished_jobs,
                queues_finished_before: self
                    .cfg
                    .queues
                    .iter()
                    .map(|(q, keep)| (q.clone(), now - *keep))
                    .collect(),
                occurrences_before: now - self.cfg.keep_occurrences,
                limit: 1000,
            };
            match self.store.retention_prune(prune).await {
                Ok(c) if c.jobs + c.occurrences > 0 => {
                    tracing::info!(jobs = c.jobs, occurrences = c.occurrences, "pruned");
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "prune failed"),
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(self.cfg.every) => {}
            }
        }
    }
}
