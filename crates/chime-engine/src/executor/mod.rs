//! Executors: where a claimed job actually runs. The job's target picks one:
//! an HTTP callback, a command, or (no target) the in-process handler
//! registered for its kind.

pub mod command;
pub mod handlers;
pub mod http;

use chime_core::model::{Job, Target};
use jiff::SignedDuration;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub use handlers::{Handler, Handlers};

/// Everything a handler may need about the execution in progress.
#[derive(Clone)]
pub struct JobContext {
    /// 1-based.
    pub attempt: u32,
    /// Stable across retries of one job (DESIGN §2.4): dedupe on it.
    pub idempotency_key: String,
    /// Cancelled when the job times out, is cancelled, or the worker stops.
    pub cancel: CancellationToken,
}

/// How an execution failed: handlers return these (apalis-style control flow).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    /// Try again: after `after` if given, else after the job's backoff.
    #[error("{error}")]
    Retry {
        error: String,
        after: Option<SignedDuration>,
    },
    /// Do not try again: the job is dead.
    #[error("{0}")]
    Fail(String),
}

impl JobError {
    pub fn retry(error: impl Into<String>) -> JobError {
        JobError::Retry {
            error: error.into(),
            after: None,
        }
    }
}

/// Output kept with the attempt (bounded), or why it failed.
pub type JobResult = Result<Option<String>, JobError>;

pub struct Executors {
    pub http: http::HttpExecutor,
    /// `None`: command targets are disabled (the default).
    pub command: Option<command::CommandExecutor>,
    pub handlers: Handlers,
}

impl Executors {
    pub async fn run(&self, job: &Arc<Job>, ctx: JobContext) -> JobResult {
        // The HTTP and command executions are boxed: their futures are
        // large, and unboxed they would make every job's task that large,
        // copied on each spawn and move whatever the job's kind.
        match &job.job.target {
            Some(Target::Http(target)) => Box::pin(self.http.run(target, job, &ctx)).await,
            Some(Target::Command(target)) => match &self.command {
                Some(exec) => Box::pin(exec.run(target, job, &ctx)).await,
                None => Err(JobError::Fail(
                    "command targets are disabled on this server (enable them in its config)"
                        .into(),
                )),
            },
            None => match self.handlers.get(&job.job.kind) {
                Some(handler) => handler.call(job.clone(), ctx).await,
                None => Err(JobError::Fail(format!(
                    "no handler is registered for kind {:?} and the job has no target",
                    job.job.kind
                ))),
            },
        }
    }

    /// The time limit of one execution.
    pub fn timeout(job: &Job) -> SignedDuration {
        let ms = match &job.job.target {
            Some(Target::Command(c)) => c.timeout_ms.unwrap_or(job.job.timeout_ms),
            _ => job.job.timeout_ms,
        };
        SignedDuration::from_millis(ms.min(i64::MAX as u64) as i64)
    }
}

/// Keeps at most `max` bytes of text, cutting on a character boundary.
pub fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… [{} bytes cut]", &text[..cut], text.len() - cut)
}
