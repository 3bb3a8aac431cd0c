//! Failure notifications: when a job goes dead or fires are missed, a
//! webhook and/or email addresses hear of it. Each notification is itself
//! a job on the `chime.notifications` queue (an HTTP target, or a
//! `chime.email` job), so it is durable, signed (`Chime-Signature`) and
//! retried with backoff like any callback. Whom to tell: the schedule's
//! `on_failure`, else its queue's, else the instance-wide default.

use chime_core::model::{new_id, Backoff, Job, JobTemplate, MisfirePolicy, OnFailure, Target};
use chime_core::time::Clock;
use chime_store::{NewJob, Store};
use jiff::Timestamp;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where notifications wait and run; built-in workers always serve it.
pub const QUEUE: &str = "chime.notifications";
const KIND: &str = "chime.notification";

#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    /// For queues and schedules that name none.
    pub default: Option<OnFailure>,
    pub queues: BTreeMap<String, OnFailure>,
}

/// Disabled (no store) until the engine gives it one.
#[derive(Clone, Default)]
pub struct Notifier {
    store: Option<Arc<dyn Store>>,
    clock: Option<Arc<dyn Clock>>,
    cfg: Arc<NotifyConfig>,
    /// SMTP is configured: email notifications can be sent.
    email: bool,
}

/// A run of fires that no job was made for.
#[derive(Debug, Clone)]
pub struct Missed {
    pub schedule_id: String,
    pub schedule_name: String,
    pub queue: String,
    pub on_failure: Option<OnFailure>,
    pub policy: MisfirePolicy,
    pub count: u64,
    pub first: Timestamp,
    pub last: Timestamp,
}

impl Notifier {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        cfg: NotifyConfig,
        email: bool,
    ) -> Notifier {
        Notifier {
            store: Some(store),
            clock: Some(clock),
            cfg: Arc::new(cfg),
            email,
        }
    }

    fn target(&self, own: Option<&OnFailure>, queue: &str) -> Option<OnFailure> {
        own.or_else(|| self.cfg.queues.get(queue))
            .or(self.cfg.default.as_ref())
            .cloned()
    }

    /// `job` has just gone dead (no attempts left, or failed for good).
    pub async fn job_dead(&self, job: &Job) {
        if job.job.queue == QUEUE {
            return; // a notification that could not be delivered is not news
        }
        let Some(store) = &self.store else { return };
        let schedule = match &job.schedule_id {
            Some(id) => store.schedules_get(id).await.ok().flatten(),
            None => None,
        };
        let own = schedule.as_ref().and_then(|s| s.spec.on_failure.as_ref());
        let Some(to) = self.target(own, &job.job.queue) else {
            return;
        };
        let payload = json!({
            "event": "job.dead",
            "job": {
                "id": job.id, "queue": job.job.queue, "kind": job.job.kind,
                "attempt": job.attempt, "max_attempts": job.job.max_attempts,
                "last_error": job.last_error, "schedule_id": job.schedule_id,
                "scheduled_for": job.scheduled_for, "finished_at": job.finished_at,
            },
            "schedule": schedule.as_ref().map(|s| json!({"id": s.id, "name": s.spec.name})),
        });
        let subject = format!("chime: job {} in {} is dead", job.job.kind, job.job.queue);
        let body = format!(
            "Job {} ({}, queue {}) failed for good after {} attempt(s).\n\nLast error: {}\n{}\nchime job show {}\n",
            job.id,
            job.job.kind,
            job.job.queue,
            job.attempt,
            job.last_error.as_deref().unwrap_or("-"),
            schedule
                .as_ref()
                .map(|s| format!("Schedule: {} ({})\n", s.spec.name, s.id))
                .unwrap_or_default(),
            job.id
        );
        self.send(store.as_ref(), &job.namespace, to, payload, (subject, body))
            .await;
    }

    /// Fires of a schedule were recorded as missed.
    pub async fn missed(&self, m: Missed) {
        let Some(store) = &self.store else { return };
        let Some(to) = self.target(m.on_failure.as_ref(), &m.queue) else {
            return;
        };
        let policy = match m.policy {
            MisfirePolicy::FireOnce => "fire_once",
            MisfirePolicy::FireAll => "fire_all",
            MisfirePolicy::Skip => "skip",
        };
        let payload = json!({
            "event": "occurrence.missed",
            "schedule": {"id": m.schedule_id, "name": m.schedule_name},
            "missed": {"count": m.count, "first": m.first, "last": m.last, "misfire_policy": policy},
        });
        let subject = format!("chime: {} missed fire(s) of {}", m.count, m.schedule_name);
        let body = format!(
            "Schedule {} ({}) missed {} fire(s) from {} to {} (misfire policy {policy}).\n\nchime schedule history {}\n",
            m.schedule_name, m.schedule_id, m.count, m.first, m.last, m.schedule_id
        );
        self.send(
            store.as_ref(),
            chime_core::model::DEFAULT_NAMESPACE,
            to,
            payload,
            (subject, body),
        )
        .await;
    }

    /// One job per channel: the webhook call, and the email.
    async fn send(
        &self,
        store: &dyn Store,
        namespace: &str,
        to: OnFailure,
        payload: serde_json::Value,
        (subject, body): (String, String),
    ) {
        let mut jobs = Vec::new();
        if let Some(webhook) = to.webhook {
            jobs.push(self.job(namespace, KIND, payload, Some(Target::Http(webhook))));
        }
        if !to.email.is_empty() {
            if self.email {
                let mail = json!({"to": to.email, "subject": subject, "body": body});
                jobs.push(self.job(namespace, crate::email::KIND, mail, None));
            } else {
                tracing::warn!(
                    "on_failure names email addresses but this instance has no [smtp] settings"
                );
            }
        }
        if jobs.is_empty() {
            return;
        }
        if let Err(e) = store.jobs_enqueue(jobs).await {
            tracing::error!(error = %e, "could not enqueue a failure notification");
        }
    }

    fn job(
        &self,
        namespace: &str,
        kind: &str,
        payload: serde_json::Value,
        target: Option<Target>,
    ) -> NewJob {
        let mut job = JobTemplate::new(QUEUE, kind);
        job.payload = payload;
        job.target = target;
        job.max_attempts = 8;
        job.timeout_ms = 30_000;
        job.backoff = Backoff {
            initial_ms: 1_000,
            max_ms: 300_000,
        };
        NewJob {
            id: new_id(),
            namespace: namespace.to_string(),
            job,
            run_at: self.clock.as_ref().map_or_else(Timestamp::now, |c| c.now()),
            schedule_id: None,
            scheduled_for: None,
            unique_key: None,
        }
    }
}
