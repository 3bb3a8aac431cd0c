//! Records job outcomes in batches: whatever completions arrive while a
//! write is in flight go into the next write, so an idle worker still
//! writes each at once while a busy one writes hundreds per transaction.
//!
//! A job's task hands its outcome over and ends: no reply to wait for, so
//! a burst of short jobs is not a burst of tasks woken a second time. The
//! writer reports what the store refused, and tells of jobs gone dead.

use super::turns::Ticket;
use crate::events::Events;
use chime_core::model::Job;
use chime_store::{JobCompletion, JobsComplete, Store, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::{oneshot, Notify};

/// Largest batch written in one call.
const MAX_BATCH: usize = 512;

enum Request {
    /// An outcome, with the job as it ends when the outcome is `Dead`, and
    /// what the slot held for it, dropped here after the write.
    Complete(JobCompletion, Option<Box<Job>>, Option<Box<Ticket>>),
    /// Answered once every outcome sent before it has been written.
    Flush(oneshot::Sender<()>),
}

/// What the slots hand over, taken by the writer all at once. A lock and a
/// push per outcome, rather than a channel's several shared atomics: both
/// worker threads hand over outcomes at every job's end in a burst.
struct Inbox {
    requests: Mutex<Vec<Request>>,
    /// Told when the inbox goes from empty to not, and when it closes.
    arrived: Notify,
    closed: AtomicBool,
}

impl Inbox {
    fn lock(&self) -> MutexGuard<'_, Vec<Request>> {
        // Nothing panics while holding it; a poisoned one is still whole.
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, request: Request) {
        let first = {
            let mut requests = self.lock();
            requests.push(request);
            requests.len() == 1
        };
        if first {
            self.arrived.notify_one();
        }
    }
}

pub struct Completer {
    inbox: Arc<Inbox>,
}

impl Completer {
    /// Starts the writer task; it ends when the `Completer` is dropped.
    pub fn start(store: Arc<dyn Store>, events: Events) -> Completer {
        let inbox = Arc::new(Inbox {
            requests: Mutex::default(),
            arrived: Notify::new(),
            closed: AtomicBool::new(false),
        });
        tokio::spawn(write_batches(store, events, inbox.clone()));
        Completer { inbox }
    }

    /// Queues an outcome for the next write. `dead`: the job, told to the
    /// notifier once its `Dead` outcome is written. `spent`: the ticket the
    /// job ran from, freed by the writer after the write rather than by the
    /// slot in a burst: its memory was allocated by the claim, often on the
    /// other worker thread, and freeing it there made the threads contend.
    pub fn complete(
        &self,
        completion: JobCompletion,
        dead: Option<Job>,
        spent: Option<Box<Ticket>>,
    ) {
        self.inbox
            .push(Request::Complete(completion, dead.map(Box::new), spent));
    }

    /// Waits until every outcome queued so far is written (at shutdown).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        self.inbox.push(Request::Flush(done));
        let _ = written.await;
    }
}

impl Drop for Completer {
    /// The writer writes what is queued, then ends.
    fn drop(&mut self) {
        self.inbox.closed.store(true, Ordering::Release);
        self.inbox.arrived.notify_one();
    }
}

async fn write_batches(store: Arc<dyn Store>, events: Events, inbox: Arc<Inbox>) {
    // Swapped with the inbox's, so that neither grows again at each take.
    let mut taken = Vec::new();
    loop {
        std::mem::swap(&mut *inbox.lock(), &mut taken);
        if taken.is_empty() {
            if inbox.closed.load(Ordering::Acquire) {
                return;
            }
            inbox.arrived.notified().await;
            continue;
        }
        let mut batch = Vec::with_capacity(taken.len().min(MAX_BATCH));
        let mut spent = Vec::with_capacity(taken.len());
        let mut flushes = Vec::new();
        for request in taken.drain(..) {
            match request {
                Request::Complete(c, dead, ticket) => {
                    batch.push((c, dead));
                    spent.extend(ticket);
                }
                Request::Flush(done) => flushes.push(done),
            }
            if batch.len() == MAX_BATCH {
                write(store.as_ref(), &events, std::mem::take(&mut batch)).await;
            }
        }
        if !batch.is_empty() {
            write(store.as_ref(), &events, batch).await;
        }
        drop(spent);
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
