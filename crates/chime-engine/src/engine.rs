//! The engine assembled: scheduler, workers, reaper and retention over one
//! store, each a task with the same shape (`new`, `run(cancel)`).

use crate::email::{self, SmtpConfig};
use crate::events::Events;
use crate::executor::command::CommandExecutor;
use crate::executor::http::HttpExecutor;
use crate::executor::{Executors, Handler, Handlers, JobContext, JobResult};
use crate::metrics::MeteredStore;
use crate::notify::{self, Notifier, NotifyConfig};
use crate::reaper::Reaper;
use crate::retention::{Retention, RetentionConfig};
use crate::scheduler::{Scheduler, SchedulerConfig};
use crate::service::Service;
use crate::worker::{Worker, WorkerConfig};
use chime_core::model::Job;
use chime_core::time::Clock;
use chime_store::{Store, Wakers};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `None`: this instance does not schedule (`--role worker|api`).
    pub scheduler: Option<SchedulerConfig>,
    /// `None`: this instance runs no jobs (`--role scheduler|api`).
    pub worker: Option<WorkerConfig>,
    pub retention: RetentionConfig,
    pub reap_every: Duration,
    /// Signs HTTP callbacks (`Chime-Signature`) when set.
    pub signing_secret: Option<Vec<u8>>,
    pub allow_commands: bool,
    pub buckets: u32,
    pub default_zone: chime_core::Zone,
    pub notify: NotifyConfig,
    /// Sends failure emails when set.
    pub smtp: Option<SmtpConfig>,
}

impl EngineConfig {
    /// Everything on, on one node.
    pub fn single_node(instance_id: &str) -> EngineConfig {
        let scheduler = SchedulerConfig::new(instance_id);
        EngineConfig {
            buckets: scheduler.buckets,
            default_zone: scheduler.default_zone.clone(),
            scheduler: Some(scheduler),
            worker: Some(WorkerConfig::new(instance_id, 100)),
            retention: RetentionConfig::default(),
            reap_every: Duration::from_secs(1),
            signing_secret: None,
            allow_commands: false,
            notify: NotifyConfig::default(),
            smtp: None,
        }
    }
}

pub struct Engine {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    events: Events,
    handlers: Handlers,
    cfg: EngineConfig,
}

impl Engine {
    /// Every store call made through the engine is timed into its metrics.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, cfg: EngineConfig) -> Engine {
        let mut events = Events::new();
        let store = MeteredStore::wrap(store, events.metrics.clone());
        events.notifier = Notifier::new(
            store.clone(),
            clock.clone(),
            cfg.notify.clone(),
            cfg.smtp.is_some(),
        );
        let mut handlers = Handlers::default();
        if let Some(smtp) = cfg.smtp.clone() {
            let smtp = Arc::new(smtp);
            handlers.insert(email::KIND, move |job, ctx| {
                let smtp = smtp.clone();
                async move { email::send(&smtp, job, ctx).await }
            });
        }
        Engine {
            store,
            clock,
            events,
            handlers,
            cfg,
        }
    }

    /// Registers the in-process handler for jobs of `kind` with no target:
    /// `engine.handle("report.daily", |job, ctx| async move { Ok(None) })`.
    pub fn handle<F, Fut>(&mut self, kind: &str, handler: F) -> &mut Self
    where
        F: Fn(Arc<Job>, JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = JobResult> + Send + 'static,
    {
        self.handlers.insert(kind, handler);
        self
    }

    /// Registers a handler object (anything implementing [`Handler`]).
    pub fn handle_with(&mut self, kind: &str, handler: impl Handler) -> &mut Self {
        self.handlers.insert(kind, handler);
        self
    }

    pub fn events(&self) -> Events {
        self.events.clone()
    }

    pub fn service(&self) -> Service {
        Service {
            store: self.store.clone(),
            clock: self.clock.clone(),
            events: self.events.clone(),
            buckets: self.cfg.buckets,
            default_zone: self.cfg.default_zone.clone(),
            allow_commands: self.cfg.allow_commands,
            email: self.cfg.smtp.is_some(),
        }
    }

    /// Runs every part until `cancel`; returns when all have stopped.
    pub async fn run(self, cancel: CancellationToken) -> Result<(), reqwest::Error> {
        let executors = Arc::new(Executors {
            http: HttpExecutor::new(self.cfg.signing_secret.clone())?,
            command: self.cfg.allow_commands.then_some(CommandExecutor),
            handlers: self.handlers,
        });
        let wakers = Wakers {
            jobs: self.events.jobs_ready_signal(),
            schedules: self.events.schedules_changed(),
        };
        if let Err(e) = self.store.watch(wakers).await {
            tracing::warn!(error = %e, "cannot follow other instances' changes; relying on polling");
        }
        let mut tasks = JoinSet::new();
        if let Some(cfg) = self.cfg.scheduler {
            let scheduler = Scheduler::new(
                self.store.clone(),
                self.clock.clone(),
                cfg,
                self.events.clone(),
            );
            tasks.spawn(scheduler.run(cancel.clone()));
        }
        if let Some(mut cfg) = self.cfg.worker {
            // Workers limited to some queues still deliver notifications.
            if let Some(lane) = cfg.lanes.first_mut() {
                if !lane.queues.is_empty() && !lane.queues.iter().any(|q| q == notify::QUEUE) {
                    lane.queues.push(notify::QUEUE.to_string());
                }
            }
            let worker = Worker::new(
                self.store.clone(),
                self.clock.clone(),
                cfg,
                executors,
                self.events.clone(),
            );
            tasks.spawn(worker.run(cancel.clone()));
            tasks.spawn(
                Reaper::new(self.store.clone(), self.events.clone(), self.cfg.reap_every)
                    .run(cancel.clone()),
            );
        }
        tasks.spawn(
            Retention::new(self.store.clone(), self.clock.clone(), self.cfg.retention)
                .run(cancel.clone()),
        );
        while tasks.join_next().await.is_some() {}
        Ok(())
    }
}
