//! Records job outcomes in batches: whatever completions arrive while a
//! write is in flight go into the next write, so an idle worker still
//! writes each at once while a busy one writes hundreds per transaction.

use chime_store::{JobCompletion, JobsComplete, Store, StoreError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Largest batch written in one call.
const MAX_BATCH: usize = 512;

type Request = (JobCompletion, oneshot::Sender<chime_store::Result<()>>);

#[derive(Clone)]
pub struct Completer {
    tx: mpsc::UnboundedSender<Request>,
}

impl Completer {
    /// Starts the writer task; it ends when every `Completer` is dropped.
    pub fn start(store: Arc<dyn Store>) -> Completer {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_batches(store, rx));
        Completer { tx }
    }

    pub async fn complete(&self, completion: JobCompletion) -> chime_store::Result<()> {
        let (done, result) = oneshot::channel();
        self.tx
            .send((completion, done))
            .map_err(|_| StoreError::InvalidState("the completer has stopped".into()))?;
        result
            .await
            .map_err(|_| StoreError::InvalidState("the completer has stopped".into()))?
    }
}

async fn write_batches(store: Arc<dyn Store>, mut rx: mpsc::UnboundedReceiver<Request>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (completions, replies): (Vec<JobCompletion>, Vec<_>) = batch.into_iter().unzip();
        match store
            .jobs_complete(JobsComplete {
                completions,
                now: None,
            })
            .await
        {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                let message = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Backend(message.clone().into())));
                }
            }
        }
    }
}
