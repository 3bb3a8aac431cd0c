//! Records job outcomes in batches: whatever completions arrive while a
//! write is in flight go into the next write, so an idle worker still
//! writes each at once while a busy one writes hundreds per transaction.
//!
//! A job's task hands its outcome over and ends: no reply to wait for, so
//! a burst of short jobs is not a burst of tasks woken a second time. The
//! writer reports what the store refused, and tells of jobs gone dead.

use crate::events::Events;
use chime_core::model::Job;
use chime_store::{JobCompletion, JobsComplete, Store, StoreError};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Largest batch written in one call.
const MAX_BATCH: usize = 512;

enum Request {
    /// An outcome, with the job as it ends when the outcome is `Dead`.
    Complete(JobCompletion, Option<Box<Job>>),
    /// Answered once every outcome sent before it has been written.
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct Completer {
    tx: mpsc::UnboundedSender<Request>,
}

impl Completer {
    /// Starts the writer task; it ends when every `Completer` is dropped.
    pub fn start(store: Arc<dyn Store>, events: Events) -> Completer {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_batches(store, events, rx));
        Completer { tx }
    }

    /// Queues an outcome for the next write. `dead`: the job, told to the
    /// notifier once its `Dead` outcome is written.
    pub fn complete(&self, completion: JobCompletion, dead: Option<Job>) {
        let request = Request::Complete(completion, dead.map(Box::new));
        if self.tx.send(request).is_err() {
            tracing::error!("the completer has stopped; the job's lease will expire");
        }
    }

    /// Waits until every outcome queued so far is written (at shutdown).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.tx.send(Request::Flush(done)).is_ok() {
            let _ = written.await;
        }
    }
}

async fn write_batches(
    store: Arc<dyn Store>,
    events: Events,
    mut rx: mpsc::UnboundedReceiver<Request>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = Vec::new();
        let mut flushes = Vec::new();
        let mut request = Some(first);
        while let Some(r) = request.take() {
            match r {
                Request::Complete(c, dead) => batch.push((c, dead)),
                Request::Flush(done) => flushes.push(done),
            }
            if batch.len() < MAX_BATCH {
                request = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            write(store.as_ref(), &events, batch).await;
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

async fn write(store: &dyn Store, events: &Events, batch: Vec<(JobCompletion, Option<Box<Job>>)>) {
    let (completions, dead): (Vec<JobCompletion>, Vec<_>) = batch.into_iter().unzip();
    let results = store
        .jobs_complete(JobsComplete {
            completions,
            now: None,
        })
        .await;
    let results = match results {
        Ok(results) => results,
        Err(e) => {
            tracing::error!(error = %e, jobs = dead.len(), "could not record the jobs' outcomes; their leases will expire");
            return;
        }
    };
    for (result, dead) in results.into_iter().zip(dead) {
        match result {
            Ok(()) => {
                if let Some(job) = dead {
                    // Not awaited here: a slow webhook must not hold up
                    // the next batch of outcomes.
                    let notifier = events.notifier.clone();
                    tokio::spawn(async move { notifier.job_dead(&job).await });
                }
            }
            Err(StoreError::LeaseLost) => {
                events.metrics.lease_lost.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("completion rejected: the lease was lost meanwhile");
            }
            Err(e) => {
                tracing::error!(error = %e, "could not record the job's outcome; its lease will expire")
            }
        }
    }
}
