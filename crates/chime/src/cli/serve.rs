//! `chime serve`: the scheduler, workers and HTTP API in one process.

use super::config::{LogFormat, Role, ServeArgs, Settings};
use super::schedules_file;
use super::Failure;
use anyhow::Context;
use chime_core::model::new_id;
use chime_core::time::Clock;
use chime_engine::auth::Authenticator;
use chime_engine::retention::RetentionConfig;
use chime_engine::store_clock::StoreClock;
use chime_engine::worker::WorkerConfig;
use chime_engine::{Engine, EngineConfig, JobResult};
use chime_server::Access;
use chime_store::postgres::PostgresStore;
use chime_store::redis::RedisStore;
use chime_store::sqlite::SqliteStore;
use chime_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub fn run(args: ServeArgs) -> Result<(), Failure> {
    let settings = Settings::resolve(args)?;
    init_logging(settings.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(settings))
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: a log file or pipeline gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

pub async fn open_store(url: &str) -> Result<Arc<dyn Store>, Failure> {
    if url.starts_with("sqlite:") {
        let store = SqliteStore::open(url)
            .await
            .with_context(|| format!("opening {url}"))?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PostgresStore::open(url)
            .await
            .with_context(|| format!("opening {}", redact(url)))?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("redis://") {
        let store = RedisStore::open(url)
            .await
            .with_context(|| format!("opening {}", redact(url)))?;
        return Ok(Arc::new(store));
    }
    Err(Failure::Input(format!(
        "--db {:?}: unsupported store; expected sqlite://PATH, postgres://… or redis://…",
        redact(url)
    )))
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

async fn serve(args: Settings) -> Result<(), Failure> {
    let default_zone = args.default_zone.clone();
    // Read before anything starts: a bad file is a bad start.
    let declared = match &args.schedules {
        Some(path) => Some((path.clone(), schedules_file::load(path)?)),
        None => None,
    };
    if !args.auth && !args.insecure && !args.listen.ip().is_loopback() {
        return Err(Failure::Input(format!(
            "--listen {}: refusing to serve beyond this host without API tokens; \
             create one with `chime token create`, then start with --auth (or pass --insecure)",
            args.listen
        )));
    }
    let store = open_store(&args.db).await?;
    let instance = format!("{}-{}", hostname(), &new_id()[24..]);
    // Due-ness and leases follow the store's clock, whatever this host's says.
    let store_clock = Arc::new(StoreClock::new());
    let offset = store_clock
        .sync(store.as_ref())
        .await
        .context("reading the store's clock")?;
    tracing::info!(offset_ms = offset.as_millis() as i64, "store clock offset");
    let clock: Arc<dyn Clock> = store_clock.clone();
    let mut cfg = EngineConfig::single_node(&instance);
    cfg.default_zone = default_zone.clone();
    cfg.allow_commands = args.allow_commands;
    cfg.signing_secret = args.signing_secret.clone().map(String::into_bytes);
    cfg.notify = args.notify.clone();
    cfg.smtp = args.smtp.clone();
    cfg.retention = RetentionConfig {
        keep_finished_jobs: seconds(args.retention.finished_jobs.as_secs()),
        keep_occurrences: seconds(args.retention.occurrences.as_secs()),
        queues: args
            .retention
            .queues
            .iter()
            .map(|(q, keep)| (q.clone(), seconds(keep.as_secs())))
            .collect(),
        ..RetentionConfig::default()
    };
    if let Some(s) = cfg.scheduler.as_mut() {
        s.default_zone = default_zone;
        s.plan.misfire_threshold = jiff::SignedDuration::from_millis(
            args.misfire_threshold_ms.min(i64::MAX as u64) as i64,
        );
    }
    let mut worker = WorkerConfig::new(&instance, args.concurrency);
    if let Some(lane) = worker.lanes.first_mut() {
        lane.queues = args.queues.clone();
    }
    worker.shutdown_grace = Duration::from_secs(args.shutdown_grace);
    cfg.worker = Some(worker);
    match args.role {
        Role::All => {}
        Role::Scheduler => cfg.worker = None,
        Role::Worker => cfg.scheduler = None,
        Role::Api => {
            cfg.scheduler = None;
            cfg.worker = None;
        }
    }
    let mut engine = Engine::new(store.clone(), clock, cfg);
    engine.handle("chime.noop", |_job, _ctx| async { JobResult::Ok(None) });
    let access = if args.auth {
        if store
            .tokens_list()
            .await
            .context("reading API tokens")?
            .is_empty()
        {
            tracing::warn!(
                "--auth is on but no token exists: create one with `chime token create`"
            );
        }
        Access::Tokens(Arc::new(Authenticator::new(engine.service().store)))
    } else {
        Access::Open
    };
    let service = engine.service();
    let app = chime_server::router(service.clone(), access);

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!(listen = %args.listen, db = %redact(&args.db), instance = %instance, "chime is serving");

    let cancel = CancellationToken::new();
    tokio::spawn(store_clock.run(store.clone(), cancel.clone()));
    let engine_task = tokio::spawn(engine.run(cancel.clone()));
    let http_cancel = cancel.clone();
    let http = axum::serve(listener, app)
        .with_graceful_shutdown(async move { http_cancel.cancelled().await });
    let http_task = tokio::spawn(async move { http.await });
    if let Some((path, first)) = declared {
        tokio::spawn(keep_declared(service, path, first, cancel.clone()));
    }

    shutdown_signal().await;
    tracing::info!("shutting down: no new claims; waiting for running jobs");
    cancel.cancel();
    http_task
        .await
        .context("HTTP server task")?
        .context("HTTP server")?;
    engine_task
        .await
        .context("engine task")?
        .context("engine")?;
    tracing::info!("stopped");
    Ok(())
}

/// Applies the schedules file now and again on every SIGHUP.
async fn keep_declared(
    service: chime_engine::service::Service,
    path: std::path::PathBuf,
    first: Vec<(String, chime_core::model::ScheduleSpec)>,
    cancel: CancellationToken,
) {
    apply_declared(&service, &path, &first).await;
    #[cfg(unix)]
    {
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGHUP; the schedules file is applied at start only");
                return;
            }
        };
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = hup.recv() => {}
            }
            match schedules_file::load(&path) {
                Ok(declared) => apply_declared(&service, &path, &declared).await,
                Err(e) => {
                    tracing::error!(error = %e.message(), "schedules file not applied; the schedules stay as they were")
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = cancel;
}

async fn apply_declared(
    service: &chime_engine::service::Service,
    path: &std::path::Path,
    declared: &[(String, chime_core::model::ScheduleSpec)],
) {
    match chime_engine::declared::apply(service, declared).await {
        Ok(a) => tracing::info!(
            file = %path.display(),
            created = a.created.len(),
            updated = a.updated.len(),
            unchanged = a.unchanged.len(),
            removed = a.removed.len(),
            "schedules file applied"
        ),
        Err(e) => tracing::error!(file = %path.display(), error = %e, "schedules file not applied"),
    }
}

fn seconds(s: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_secs(s)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "chime".to_string())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_the_password_only() {
        assert_eq!(
            redact("postgres://chime:s3cret@db:5432/chime"),
            "postgres://chime:***@db:5432/chime"
        );
        assert_eq!(
            redact("postgres://chime@db/chime"),
            "postgres://chime@db/chime"
        );
        assert_eq!(redact("sqlite://chime.db"), "sqlite://chime.db");
    }
}
