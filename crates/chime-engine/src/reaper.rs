//! The reaper: jobs whose lease expired (their worker died or hung) become
//! claimable again, or dead when out of attempts (DESIGN §2.4).

use crate::events::Events;
use chime_store::{JobsRescue, Store};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub struct Reaper {
    store: Arc<dyn Store>,
    events: Events,
    every: Duration,
}

impl Reaper {
    pub fn new(store: Arc<dyn Store>, events: Events, every: Duration) -> Reaper {
        Reaper {
            store,
            events,
            every,
        }
    }

    pub async fn run(self, cancel: CancellationToken) {
        self.run_loop(cancel)
            .instrument(tracing::info_span!("reaper"))
            .await
    }

    async fn run_loop(self, cancel: CancellationToken) {
        loop {
            match self
                .store
                .jobs_rescue(JobsRescue {
                    limit: 1000,
                    now: None,
                })
                .await
            {
                Ok(ids) if !ids.is_empty() => {
                    tracing::info!(count = ids.len(), "rescued jobs with expired leases");
                    self.events
                        .metrics
                        .rescued
                        .fetch_add(ids.len() as u64, Ordering::Relaxed);
                    self.events.jobs_ready();
                    // Those out of attempts went dead with their worker.
                    for id in &ids {
                        if let Ok(Some(job)) = self.store.jobs_get(id).await {
                            if job.state == chime_core::model::JobState::Dead {
                                self.events.notifier.job_dead(&job).await;
                            }
                        }
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "rescue failed"),
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(self.every) => {}
            }
        }
    }
}
