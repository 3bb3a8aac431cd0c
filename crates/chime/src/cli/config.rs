//! Settings of `chime serve`: flags, then `CHIME_*` variables, then the
//! TOML file given with `--config`, then built-in defaults. Every setting
//! has all four forms; `docs/configuration.md` lists them.

use super::Failure;
use chime_core::model::OnFailure;
use chime_core::schedule::interval::Interval;
use chime_core::Zone;
use chime_engine::email::SmtpConfig;
use chime_engine::notify::NotifyConfig;
use clap::{Args, Subcommand, ValueEnum};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Args, Default)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (flags and env win).
    #[arg(long, env = "CHIME_CONFIG")]
    pub config: Option<PathBuf>,
    /// Store URL: sqlite://PATH, postgres://… or redis://… [default: sqlite://chime.db]
    #[arg(long, env = "CHIME_DB")]
    db: Option<String>,
    /// Address of the HTTP API [default: 127.0.0.1:7070]
    #[arg(long, env = "CHIME_LISTEN")]
    listen: Option<SocketAddr>,
    /// What this instance does [default: all]
    #[arg(long, env = "CHIME_ROLE", value_enum)]
    role: Option<Role>,
    /// Jobs this instance runs at once [default: 100]
    #[arg(long, env = "CHIME_CONCURRENCY")]
    concurrency: Option<usize>,
    /// Queues the built-in workers run, comma-separated [default: every
    /// queue]. Leave out the queues that external workers claim from.
    #[arg(long, env = "CHIME_QUEUES", value_delimiter = ',')]
    queues: Option<Vec<String>>,
    /// Time zone of cron schedules that name none [default: UTC]
    #[arg(long, env = "CHIME_DEFAULT_TIMEZONE")]
    default_timezone: Option<String>,
    /// Allow jobs with command targets to run programs on this host.
    #[arg(long, env = "CHIME_ALLOW_COMMANDS", num_args = 0..=1, default_missing_value = "true")]
    allow_commands: Option<bool>,
    /// Secret for the Chime-Signature header of HTTP callbacks.
    #[arg(long, env = "CHIME_SIGNING_SECRET", hide_env_values = true)]
    signing_secret: Option<String>,
    /// A fire processed more than this many milliseconds after its instant
    /// counts as missed and goes through the schedule's misfire policy [default: 10000]
    #[arg(long, env = "CHIME_MISFIRE_THRESHOLD_MS")]
    misfire_threshold_ms: Option<u64>,
    /// Seconds in-flight jobs get to finish on SIGTERM/SIGINT [default: 30]
    #[arg(long, env = "CHIME_SHUTDOWN_GRACE")]
    shutdown_grace: Option<u64>,
    /// Require an API token (`chime token create`) on every API call.
    #[arg(long, env = "CHIME_AUTH", num_args = 0..=1, default_missing_value = "true")]
    auth: Option<bool>,
    /// Serve without tokens on a non-loopback address (anyone who can reach
    /// it can change schedules and run jobs).
    #[arg(long, env = "CHIME_INSECURE", num_args = 0..=1, default_missing_value = "true")]
    insecure: Option<bool>,
    /// Schedules kept in a TOML file: applied at start and on SIGHUP.
    #[arg(long, env = "CHIME_SCHEDULES")]
    schedules: Option<PathBuf>,
    /// Log format [default: human]
    #[arg(long, env = "CHIME_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    All,
    Scheduler,
    Worker,
    Api,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

/// The file: the same settings, snake_case, plus sections flags do not have.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    db: Option<String>,
    listen: Option<SocketAddr>,
    role: Option<Role>,
    concurrency: Option<usize>,
    queues: Option<Vec<String>>,
    default_timezone: Option<String>,
    allow_commands: Option<bool>,
    signing_secret: Option<String>,
    misfire_threshold_ms: Option<u64>,
    shutdown_grace: Option<u64>,
    auth: Option<bool>,
    insecure: Option<bool>,
    schedules: Option<PathBuf>,
    log_format: Option<LogFormat>,
    #[serde(default)]
    retention: RetentionFile,
    /// The webhook for failures of queues and schedules that name none.
    on_failure: Option<OnFailure>,
    /// Per queue: `[queue.reports.on_failure] webhook = { url = "…" }`.
    #[serde(default, rename = "queue")]
    queue_settings: BTreeMap<String, QueueFile>,
    /// The mail server for failure emails.
    smtp: Option<SmtpConfig>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct QueueFile {
    on_failure: Option<OnFailure>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RetentionFile {
    /// Succeeded, dead and cancelled jobs, with their attempts.
    finished_jobs: Option<String>,
    /// The occurrence ledger.
    occurrences: Option<String>,
    /// Per queue: `[retention.queues.reports] finished_jobs = "90d"`.
    #[serde(default)]
    queues: BTreeMap<String, QueueRetentionFile>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct QueueRetentionFile {
    finished_jobs: Option<String>,
}

/// Everything resolved and checked.
#[derive(Debug)]
pub struct Settings {
    pub db: String,
    pub listen: SocketAddr,
    pub role: Role,
    pub concurrency: usize,
    pub queues: Vec<String>,
    pub default_zone: Zone,
    pub allow_commands: bool,
    pub signing_secret: Option<String>,
    pub misfire_threshold_ms: u64,
    pub shutdown_grace: u64,
    pub auth: bool,
    pub insecure: bool,
    pub schedules: Option<PathBuf>,
    pub log_format: LogFormat,
    pub retention: Retention,
    pub notify: NotifyConfig,
    pub smtp: Option<SmtpConfig>,
}

#[derive(Debug, Clone)]
pub struct Retention {
    pub finished_jobs: Interval,
    pub occurrences: Interval,
    pub queues: BTreeMap<String, Interval>,
}

fn bad(key: &str, reason: impl std::fmt::Display) -> Failure {
    Failure::Input(format!("{key}: {reason}"))
}

fn interval(key: &str, text: Option<&str>, default: &str) -> Result<Interval, Failure> {
    Interval::parse(text.unwrap_or(default)).map_err(|e| bad(key, e.reason))
}

impl Settings {
    pub fn resolve(args: ServeArgs) -> Result<Settings, Failure> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => File::default(),
        };
        let zone_name = args
            .default_timezone
            .or(file.default_timezone)
            .unwrap_or_else(|| "UTC".into());
        let default_zone = Zone::get(&zone_name).map_err(|e| bad("default_timezone", e))?;
        let queues = args.queues.or(file.queues).unwrap_or_default();
        for q in &queues {
            chime_core::model::validate::name("queues", q)
                .map_err(|e| bad("queues", format!("{q:?}: {}", e.message)))?;
        }
        let concurrency = args.concurrency.or(file.concurrency).unwrap_or(100);
        if !(1..=10_000).contains(&concurrency) {
            return Err(bad("concurrency", "must be between 1 and 10000"));
        }
        let r = file.retention;
        let mut per_queue = BTreeMap::new();
        for (queue, q) in &r.queues {
            chime_core::model::validate::name("retention.queues", queue)
                .map_err(|e| bad("retention.queues", format!("{queue:?}: {}", e.message)))?;
            if let Some(text) = &q.finished_jobs {
                let key = format!("retention.queues.{queue}.finished_jobs");
                per_queue.insert(queue.clone(), interval(&key, Some(text), "7d")?);
            }
        }
        let mut notify = NotifyConfig {
            default: file.on_failure,
            queues: BTreeMap::new(),
        };
        if let Some(o) = &notify.default {
            o.validate()
                .map_err(|e| bad(&format!("on_failure.{}", e.field), e.message))?;
        }
        for (queue, q) in file.queue_settings {
            chime_core::model::validate::name("queue", &queue)
                .map_err(|e| bad("queue", format!("{queue:?}: {}", e.message)))?;
            if let Some(o) = q.on_failure {
                o.validate().map_err(|e| {
                    bad(&format!("queue.{queue}.on_failure.{}", e.field), e.message)
                })?;
                notify.queues.insert(queue, o);
            }
        }
        if let Some(smtp) = &file.smtp {
            smtp.validate().map_err(|e| bad("smtp", e))?;
        }
        let wants_email = notify
            .default
            .iter()
            .chain(notify.queues.values())
            .any(|o| !o.email.is_empty());
        if wants_email && file.smtp.is_none() {
            return Err(bad(
                "smtp",
                "on_failure names email addresses: give [smtp] host and from",
            ));
        }
        let settings = Settings {
            db: args
                .db
                .or(file.db)
                .unwrap_or_else(|| "sqlite://chime.db".into()),
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 7070))),
            role: args.role.or(file.role).unwrap_or(Role::All),
            concurrency,
            queues,
            default_zone,
            allow_commands: args.allow_commands.or(file.allow_commands).unwrap_or(false),
            signing_secret: args.signing_secret.or(file.signing_secret),
            misfire_threshold_ms: args
                .misfire_threshold_ms
                .or(file.misfire_threshold_ms)
                .unwrap_or(10_000),
            shutdown_grace: args.shutdown_grace.or(file.shutdown_grace).unwrap_or(30),
            auth: args.auth.or(file.auth).unwrap_or(false),
            insecure: args.insecure.or(file.insecure).unwrap_or(false),
            schedules: args.schedules.or(file.schedules),
            log_format: args
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Human),
            retention: Retention {
                finished_jobs: interval(
                    "retention.finished_jobs",
                    r.finished_jobs.as_deref(),
                    "7d",
                )?,
                occurrences: interval("retention.occurrences", r.occurrences.as_deref(), "30d")?,
                queues: per_queue,
            },
            notify,
            smtp: file.smtp,
        };
        if settings.auth && settings.insecure {
            return Err(bad("insecure", "give auth or insecure, not both"));
        }
        let db = &settings.db;
        if !(db.starts_with("sqlite:")
            || db.starts_with("postgres://")
            || db.starts_with("postgresql://")
            || db.starts_with("redis://"))
        {
            return Err(bad(
                "db",
                format!(
                    "{:?}: unsupported store; expected sqlite://PATH, postgres://… or redis://…",
                    super::serve::redact(db)
                ),
            ));
        }
        Ok(settings)
    }
}

fn read_file(path: &Path) -> Result<File, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Input(format!("--config {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| {
        Failure::Input(format!(
            "--config {}: {}",
            path.display(),
            e.to_string().replace('\n', " ")
        ))
    })
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration (file, environment and flags together) and
    /// print the settings it resolves to; exit 2 naming the bad setting.
    Check(ServeArgs),
}

pub fn run(cmd: ConfigCommand) -> Result<(), Failure> {
    let ConfigCommand::Check(args) = cmd;
    let s = Settings::resolve(args)?;
    if let Some(path) = &s.schedules {
        let n = super::schedules_file::load(path)?.len();
        println!("schedules file {}: {n} schedules", path.display());
    }
    println!("db = {:?}", super::serve::redact(&s.db));
    println!("listen = \"{}\"", s.listen);
    println!("role = \"{:?}\"", s.role);
    println!("concurrency = {}", s.concurrency);
    println!("queues = {:?}", s.queues);
    println!("default_timezone = {:?}", s.default_zone.name());
    println!("allow_commands = {}", s.allow_commands);
    println!(
        "signing_secret = {}",
        if s.signing_secret.is_some() {
            "\"(set)\""
        } else {
            "\"(none)\""
        }
    );
    println!("misfire_threshold_ms = {}", s.misfire_threshold_ms);
    println!("shutdown_grace = {}", s.shutdown_grace);
    println!("auth = {}", s.auth);
    println!("insecure = {}", s.insecure);
    println!("log_format = \"{:?}\"", s.log_format);
    println!(
        "retention.finished_jobs = \"{}s\"",
        s.retention.finished_jobs.as_secs()
    );
    println!(
        "retention.occurrences = \"{}s\"",
        s.retention.occurrences.as_secs()
    );
    for (q, keep) in &s.retention.queues {
        println!(
            "retention.queues.{q}.finished_jobs = \"{}s\"",
            keep.as_secs()
        );
    }
    let targets = s
        .notify
        .default
        .iter()
        .map(|o| ("on_failure".to_string(), o))
        .chain(
            s.notify
                .queues
                .iter()
                .map(|(q, o)| (format!("queue.{q}.on_failure"), o)),
        );
    for (key, o) in targets {
        if let Some(w) = &o.webhook {
            println!("{key}.webhook = {:?}", redact_url(&w.url));
        }
        if !o.email.is_empty() {
            println!("{key}.email = {:?}", o.email);
        }
    }
    if let Some(smtp) = &s.smtp {
        println!("smtp.host = {:?}", smtp.host);
    }
    if !s.auth && !s.insecure && !s.listen.ip().is_loopback() {
        return Err(bad(
            "listen",
            "a non-loopback address needs auth = true (or insecure = true)",
        ));
    }
    println!("ok");
    Ok(())
}

/// A webhook URL without its query string (which often carries a secret).
fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?…"),
        None => url.to_string(),
    }
}
