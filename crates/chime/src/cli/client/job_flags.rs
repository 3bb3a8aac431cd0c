//! The job fields as flags, shared by `schedule add|edit` (the schedule's
//! job template) and `job enqueue`.

use super::{json_arg, Failure};
use clap::Args;
use serde_json::{json, Map, Value};

#[derive(Args, Default)]
pub struct JobFlags {
    /// The job's kind (what an in-process handler or external worker is registered for).
    #[arg(long)]
    kind: Option<String>,
    /// Queue of the job.
    #[arg(long)]
    queue: Option<String>,
    /// Job payload, as JSON.
    #[arg(long)]
    payload: Option<String>,
    /// Higher runs first (-1000..1000).
    #[arg(long, allow_hyphen_values = true)]
    priority: Option<i32>,
    /// Executions before the job is dead, the first included.
    #[arg(long)]
    max_attempts: Option<u32>,
    /// Time one execution may take.
    #[arg(long)]
    timeout_ms: Option<u64>,
    /// Call this URL (HTTP target) with the payload as the body.
    #[arg(long, conflicts_with = "command")]
    url: Option<String>,
    /// HTTP method for --url (default POST).
    #[arg(long, requires = "url")]
    method: Option<String>,
    /// Run this program (command target; the server must allow commands).
    /// Give the program and its arguments after `--`.
    #[arg(long, num_args = 1.., allow_hyphen_values = true, value_name = "ARGV")]
    command: Option<Vec<String>>,
}

impl JobFlags {
    /// The fields given, as a JSON object to merge into a job or template.
    pub fn fields(&self) -> Result<Map<String, Value>, Failure> {
        let mut m = Map::new();
        if let Some(v) = &self.kind {
            m.insert("kind".into(), json!(v));
        }
        if let Some(v) = &self.queue {
            m.insert("queue".into(), json!(v));
        }
        if let Some(v) = &self.payload {
            m.insert("payload".into(), json_arg("--payload", v)?);
        }
        if let Some(v) = self.priority {
            m.insert("priority".into(), json!(v));
        }
        if let Some(v) = self.max_attempts {
            m.insert("max_attempts".into(), json!(v));
        }
        if let Some(v) = self.timeout_ms {
            m.insert("timeout_ms".into(), json!(v));
        }
        if let Some(url) = &self.url {
            let mut http = json!({"url": url});
            if let Some(method) = &self.method {
                http["method"] = json!(method);
            }
            m.insert("target".into(), json!({"http": http}));
        }
        if let Some(argv) = &self.command {
            m.insert("target".into(), json!({"command": {"argv": argv}}));
        }
        Ok(m)
    }
}

/// The JSON document of `--file` (or `{}`), with the flags' fields over it.
pub fn document(file: Option<&str>, fields: Map<String, Value>) -> Result<Value, Failure> {
    let mut doc = match file {
        Some(path) => super::json_file("--file", path)?,
        None => json!({}),
    };
    merge(&mut doc, Value::Object(fields));
    Ok(doc)
}

/// Merges `patch` into `doc` (RFC 7396: objects merge, anything else replaces).
pub fn merge(doc: &mut Value, patch: Value) {
    match (doc, patch) {
        (Value::Object(d), Value::Object(p)) => {
            for (k, v) in p {
                merge(d.entry(k).or_insert(Value::Null), v);
            }
        }
        (d, p) => *d = p,
    }
}
