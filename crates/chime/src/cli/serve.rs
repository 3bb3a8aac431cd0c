//! `chime serve`: the scheduler, workers and HTTP API in one process.

use super::Failure;
use anyhow::Context;
use chime_core::model::new_id;
use chime_core::time::{Clock, SystemClock};
use chime_core::Zone;
use chime_engine::auth::Authenticator;
use chime_engine::worker::WorkerConfig;
use chime_engine::{Engine, EngineConfig, JobResult};
use chime_server::Access;
use chime_store::postgres::PostgresStore;
use chime_store::redis::RedisStore;
use chime_store::sqlite::SqliteStore;
use chime_store::Store;
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Args)]
pub struct ServeArgs {
    /// Store URL: sqlite://PATH[?synchronous=full].
    #[arg(long, env = "CHIME_DB", default_value = "sqlite://chime.db")]
    db: String,
    /// Address of the HTTP API.
    #[arg(long, env = "CHIME_LISTEN", default_value = "127.0.0.1:7070")]
    listen: SocketAddr,
    /// What this instance does.
    #[arg(long, env = "CHIME_ROLE", value_enum, default_value_t = Role::All)]
    role: Role,
    /// Jobs this instance runs at once.
    #[arg(long, env = "CHIME_CONCURRENCY", default_value_t = 100)]
    concurrency: usize,
    /// Queues the built-in workers run, comma-separated (default: every
    /// queue). Leave out the queues that external workers claim from.
    #[arg(long, env = "CHIME_QUEUES", value_delimiter = ',')]
    queues: Vec<String>,
    /// Time zone of cron schedules that name none.
    #[arg(long, env = "CHIME_DEFAULT_TIMEZONE", default_value = "UTC")]
    default_timezone: String,
    /// Allow jobs with command targets to run programs on this host.
    #[arg(long, env = "CHIME_ALLOW_COMMANDS")]
    allow_commands: bool,
    /// Secret for the Chime-Signature header of HTTP callbacks.
    #[arg(long, env = "CHIME_SIGNING_SECRET", hide_env_values = true)]
    signing_secret: Option<String>,
    /// A fire processed more than this many milliseconds after its instant
    /// counts as missed and goes through the schedule's misfire policy.
    #[arg(long, env = "CHIME_MISFIRE_THRESHOLD_MS", default_value_t = 10_000)]
    misfire_threshold_ms: u64,
    /// Seconds in-flight jobs get to finish on SIGTERM/SIGINT.
    #[arg(long, env = "CHIME_SHUTDOWN_GRACE", default_value_t = 30)]
    shutdown_grace: u64,
    /// Require an API token (`chime token create`) on every API call.
    #[arg(long, env = "CHIME_AUTH")]
    auth: bool,
    /// Serve without tokens on a non-loopback address (anyone who can reach
    /// it can change schedules and run jobs).
    #[arg(long, env = "CHIME_INSECURE", conflicts_with = "auth")]
    insecure: bool,
    /// Log format.
    #[arg(long, env = "CHIME_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Role {
    All,
    Scheduler,
    Worker,
    Api,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

pub fn run(args: ServeArgs) -> Result<(), Failure> {
    init_logging(args.log_format);
    let default_zone = Zone::get(&args.default_timezone)
        .map_err(|e| Failure::Input(format!("--default-timezone: {e}")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(args, default_zone))
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
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

async fn serve(args: ServeArgs, default_zone: Zone) -> Result<(), Failure> {
    if !args.auth && !args.insecure && !args.listen.ip().is_loopback() {
        return Err(Failure::Input(format!(
            "--listen {}: refusing to serve beyond this host without API tokens; \
             create one with `chime token create`, then start with --auth (or pass --insecure)",
            args.listen
        )));
    }
    let store = open_store(&args.db).await?;
    let instance = format!("{}-{}", hostname(), &new_id()[24..]);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut cfg = EngineConfig::single_node(&instance);
    cfg.default_zone = default_zone.clone();
    cfg.allow_commands = args.allow_commands;
    cfg.signing_secret = args.signing_secret.map(String::into_bytes);
    if let Some(s) = cfg.scheduler.as_mut() {
        s.default_zone = default_zone;
        s.plan.misfire_threshold = jiff::SignedDuration::from_millis(
            args.misfire_threshold_ms.min(i64::MAX as u64) as i64,
        );
    }
    let mut worker = WorkerConfig::new(&instance, args.concurrency);
    for q in &args.queues {
        chime_core::model::validate::name("queue", q)
            .map_err(|e| Failure::Input(format!("--queues {q:?}: {}", e.message)))?;
    }
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
    let app = chime_server::router(engine.service(), access);

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!(listen = %args.listen, db = %redact(&args.db), instance = %instance, "chime is serving");

    let cancel = CancellationToken::new();
    let engine_task = tokio::spawn(engine.run(cancel.clone()));
    let http_cancel = cancel.clone();
    let http = axum::serve(listener, app)
        .with_graceful_shutdown(async move { http_cancel.cancelled().await });
    let http_task = tokio::spawn(async move { http.await });

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
