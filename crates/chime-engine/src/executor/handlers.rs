//! In-process handlers registered by job kind:
//! `engine.handle("report.daily", |job, ctx| async move { Ok(None) })`.
//!
//! A handler is given the job shared (`Arc<Job>`), not a copy: copying it
//! was the largest single cost of a quick job's start.

use super::{JobContext, JobResult};
use chime_core::model::Job;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

pub trait Handler: Send + Sync + 'static {
    fn call(&self, job: Arc<Job>, ctx: JobContext) -> BoxFuture<JobResult>;
}

impl<F, Fut> Handler for F
where
    F: Fn(Arc<Job>, JobContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = JobResult> + Send + 'static,
{
    fn call(&self, job: Arc<Job>, ctx: JobContext) -> BoxFuture<JobResult> {
        Box::pin(self(job, ctx))
    }
}

#[derive(Clone, Default)]
pub struct Handlers {
    by_kind: HashMap<String, Arc<dyn Handler>>,
}

impl Handlers {
    pub fn insert(&mut self, kind: &str, handler: impl Handler) {
        self.by_kind.insert(kind.to_string(), Arc::new(handler));
    }

    /// Borrowed, not cloned: a reference count bumped by every job start
    /// is a cache line the worker threads fight over.
    pub fn get(&self, kind: &str) -> Option<&dyn Handler> {
        self.by_kind.get(kind).map(|h| h.as_ref())
    }

    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.by_kind.keys().cloned().collect();
        kinds.sort();
        kinds
    }
}
