//! Jobs: one unit of work, and the attempts that execute it.

use super::validate::{self, FieldError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Retry delays: exponential from `initial_ms`, capped at `max_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Backoff {
    #[serde(default = "Backoff::default_initial")]
    pub initial_ms: u64,
    #[serde(default = "Backoff::default_max")]
    pub max_ms: u64,
}

impl Backoff {
    fn default_initial() -> u64 {
        1000
    }
    fn default_max() -> u64 {
        300_000
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial_ms: Backoff::default_initial(),
            max_ms: Backoff::default_max(),
        }
    }
}

/// Where a job runs. No target: an in-process handler registered for the
/// job's kind, or an external worker pulling the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    Http(HttpTarget),
    Command(CommandTarget),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HttpTarget {
    pub url: String,
    #[serde(default = "HttpTarget::default_method")]
    pub method: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl HttpTarget {
    fn default_method() -> String {
        "POST".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommandTarget {
    pub argv: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Overrides the job's `timeout_ms` for the process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// What a job is: the fields shared by a schedule's job template, an
/// enqueued job and a stored job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JobTemplate {
    #[serde(default = "JobTemplate::default_queue")]
    pub queue: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub payload: serde_json::Value,
    /// Higher runs first. -1000 to 1000, default 0.
    #[serde(default)]
    pub priority: i32,
    /// Executions before the job is dead, the first one included.
    #[serde(default = "JobTemplate::default_max_attempts")]
    pub max_attempts: u32,
    #[serde(default = "JobTemplate::default_timeout")]
    pub timeout_ms: u64,
    #[serde(default)]
    pub backoff: Backoff,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
}

impl JobTemplate {
    fn default_queue() -> String {
        "default".to_string()
    }
    fn default_max_attempts() -> u32 {
        3
    }
    fn default_timeout() -> u64 {
        60_000
    }

    pub fn new(queue: &str, kind: &str) -> JobTemplate {
        JobTemplate {
            queue: queue.to_string(),
            kind: kind.to_string(),
            payload: serde_json::Value::Null,
            priority: 0,
            max_attempts: JobTemplate::default_max_attempts(),
            timeout_ms: JobTemplate::default_timeout(),
            backoff: Backoff::default(),
            target: None,
        }
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        validate::name("queue", &self.queue)?;
        if !self.kind.is_empty() {
            validate::name("kind", &self.kind)?;
        }
        validate::range("priority", self.priority, -1000, 1000)?;
        validate::range("max_attempts", self.max_attempts, 1, 1000)?;
        validate::range("timeout_ms", self.timeout_ms, 1, 7 * 86_400_000)?;
        validate::range("backoff.initial_ms", self.backoff.initial_ms, 1, 86_400_000)?;
        validate::range(
            "backoff.max_ms",
            self.backoff.max_ms,
            self.backoff.initial_ms,
            7 * 86_400_000,
        )?;
        match &self.target {
            Some(Target::Http(http)) => validate_http(http).map_err(|e| e.within("target.http")),
            Some(Target::Command(cmd)) => {
                validate_command(cmd).map_err(|e| e.within("target.command"))
            }
            None => Ok(()),
        }
    }
}

pub(crate) fn validate_http(http: &HttpTarget) -> Result<(), FieldError> {
    let rest = http
        .url
        .strip_prefix("http://")
        .or_else(|| http.url.strip_prefix("https://"))
        .ok_or_else(|| FieldError::new("url", "must start with http:// or https://"))?;
    if rest.is_empty() || rest.starts_with('/') || http.url.chars().any(char::is_whitespace) {
        return Err(FieldError::new(
            "url",
            "must name a host and contain no spaces",
        ));
    }
    const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    if !METHODS.contains(&http.method.as_str()) {
        return Err(FieldError::new(
            "method",
            "must be one of GET, POST, PUT, PATCH, DELETE",
        ));
    }
    for (name, value) in &http.headers {
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token || value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(FieldError::new(
                format!("headers.{name}"),
                "is not a valid HTTP header",
            ));
        }
    }
    Ok(())
}

fn validate_command(cmd: &CommandTarget) -> Result<(), FieldError> {
    if cmd.argv.first().is_none_or(String::is_empty) {
        return Err(FieldError::new("argv", "must name a program"));
    }
    if let Some(ms) = cmd.timeout_ms {
        validate::range("timeout_ms", ms, 1, 7 * 86_400_000)?;
    }
    Ok(())
}

/// A job as enqueued through the API: the template plus when and how unique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    #[serde(flatten)]
    pub job: JobTemplate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub run_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Enqueuing a job whose key matches a pending or running job returns that job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_key: Option<String>,
    #[serde(default = "super::default_namespace")]
    pub namespace: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for `run_at`, or ready when it has passed (also between retries).
    Pending,
    Running,
    Succeeded,
    /// Failed on its last attempt, or failed without retry.
    Dead,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Pending,
        JobState::Running,
        JobState::Succeeded,
        JobState::Dead,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Dead | JobState::Cancelled
        )
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Job {
    pub id: String,
    pub namespace: String,
    #[serde(flatten)]
    pub job: JobTemplate,
    pub state: JobState,
    /// Executions started so far.
    pub attempt: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub run_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub finished_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_id: Option<String>,
    /// The fire instant, for jobs made by a schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub scheduled_for: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub lease_expires_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl Job {
    /// Stable across retries (DESIGN §2.4): the fire key for scheduled jobs,
    /// the job id otherwise.
    pub fn idempotency_key(&self) -> String {
        match (&self.schedule_id, self.scheduled_for) {
            // Built by hand: a burst computes thousands, and `format!` was
            // a sixth of a no-op job's cost in a worker.
            (Some(schedule), Some(at)) => {
                let ms = at.as_millisecond().to_string();
                let mut key = String::with_capacity(schedule.len() + 1 + ms.len());
                key.push_str(schedule);
                key.push('@');
                key.push_str(&ms);
                key
            }
            _ => self.id.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Succeeded,
    Failed,
    TimedOut,
    LeaseExpired,
    Cancelled,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Succeeded => "succeeded",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::TimedOut => "timed_out",
            AttemptOutcome::LeaseExpired => "lease_expired",
            AttemptOutcome::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<AttemptOutcome> {
        [
            AttemptOutcome::Succeeded,
            AttemptOutcome::Failed,
            AttemptOutcome::TimedOut,
            AttemptOutcome::LeaseExpired,
            AttemptOutcome::Cancelled,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// One execution of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attempt {
    pub job_id: String,
    /// 1-based.
    pub attempt: u32,
    pub worker: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub started_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub finished_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<AttemptOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Captured output, bounded (command targets, HTTP response bodies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let t: JobTemplate = serde_json::from_str(r#"{"kind": "report.daily"}"#).unwrap();
        assert_eq!(
            (t.queue.as_str(), t.max_attempts, t.priority),
            ("default", 3, 0)
        );
        assert!(t.validate().is_ok());
        let bad: JobTemplate = serde_json::from_str(r#"{"queue": "a b"}"#).unwrap();
        assert_eq!(bad.validate().unwrap_err().field, "queue");
        let bad: JobTemplate =
            serde_json::from_str(r#"{"backoff": {"initial_ms": 5000, "max_ms": 10}}"#).unwrap();
        assert_eq!(bad.validate().unwrap_err().field, "backoff.max_ms");
        let bad: JobTemplate =
            serde_json::from_str(r#"{"target": {"http": {"url": "ftp://x"}}}"#).unwrap();
        assert_eq!(bad.validate().unwrap_err().field, "target.http.url");
        let bad: JobTemplate = serde_json::from_str(
            r#"{"target": {"http": {"url": "http://x", "headers": {"a\nb": "c"}}}}"#,
        )
        .unwrap();
        assert_eq!(
            bad.validate().unwrap_err().field,
            "target.http.headers.a\nb"
        );
        assert!(serde_json::from_str::<JobTemplate>(r#"{"quue": "x"}"#).is_err());
    }

    #[test]
    fn idempotency_key_is_the_fire_key_for_scheduled_jobs() {
        let mut job: Job = serde_json::from_value(serde_json::json!({
            "id": "j1", "namespace": "default", "kind": "k", "state": "pending", "attempt": 0,
            "run_at": "2026-01-01T00:00:00Z", "created_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        assert_eq!(job.idempotency_key(), "j1");
        job.schedule_id = Some("s1".into());
        job.scheduled_for = Some("2026-01-01T00:00:00Z".parse().unwrap());
        assert_eq!(job.idempotency_key(), "s1@1767225600000");
    }
}
