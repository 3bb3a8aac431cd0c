//! The API client behind `chime schedule|job|queue|instance`: one HTTP call
//! per command, a table for people or the API's own JSON with `--json`.

pub mod import;
pub mod instance;
pub mod job;
mod job_flags;
pub mod queue;
mod render;
pub mod schedule;

pub use instance::InstanceCommand;
pub use job::JobCommand;
pub use queue::QueueCommand;
pub use schedule::ScheduleCommand;

use super::Failure;
use anyhow::Context;
use chime_server::wire::ErrorBody;
use clap::Args;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// Where the API is and how to talk to it; every client command takes these.
#[derive(Args, Clone)]
pub struct ClientArgs {
    /// Base URL of a chime instance's API.
    #[arg(
        long,
        global = true,
        env = "CHIME_SERVER",
        default_value = "http://127.0.0.1:7070"
    )]
    server: String,
    /// API token, sent as `Authorization: Bearer …`.
    #[arg(long, global = true, env = "CHIME_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    pub json: bool,
}

impl Client {
    pub fn new(args: &ClientArgs) -> Result<Client, Failure> {
        let base = args.server.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Failure::Input(format!(
                "--server {base:?}: expected an http:// or https:// URL"
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .context("building the HTTP client")?;
        Ok(Client {
            http,
            base,
            token: args.token.clone(),
            json: args.json,
        })
    }

    /// Calls the API; a 4xx or 5xx becomes a [`Failure`] with the server's
    /// message and the field at fault.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<T, Failure> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = self.http.request(method.clone(), &url).query(query);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach chime at {}", self.base))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .with_context(|| format!("reading the answer to {method} {path}"))?;
        if !status.is_success() {
            return Err(api_failure(status, &bytes));
        }
        // 204 and other empty answers decode as JSON null.
        let text: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(text)
            .with_context(|| format!("unexpected answer to {method} {path}"))
            .map_err(Failure::Other)
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, Failure> {
        self.call(Method::GET, path, query, None).await
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, Failure> {
        self.call(Method::POST, path, &[], body).await
    }

    /// Prints `value` as JSON when `--json` was given; otherwise runs `table`.
    pub fn output<T: serde::Serialize>(
        &self,
        value: &T,
        table: impl FnOnce(&T),
    ) -> Result<(), Failure> {
        if self.json {
            let text = serde_json::to_string_pretty(value).context("encoding JSON")?;
            println!("{text}");
        } else {
            table(value);
        }
        Ok(())
    }
}

fn api_failure(status: StatusCode, body: &[u8]) -> Failure {
    let message = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => match e.error.field {
            Some(field) if !field.is_empty() => format!("{field}: {}", e.error.message),
            _ => e.error.message,
        },
        Err(_) => String::from_utf8_lossy(body)
            .trim()
            .chars()
            .take(200)
            .collect(),
    };
    Failure::Api {
        status: status.as_u16(),
        message,
    }
}

/// A path segment from user input (an id or queue name), percent-encoded.
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Parses a JSON argument, naming the flag when it is not JSON.
pub fn json_arg(flag: &str, text: &str) -> Result<Value, Failure> {
    serde_json::from_str(text).map_err(|e| Failure::Input(format!("{flag}: not valid JSON: {e}")))
}

/// Reads a JSON document from a file, or from standard input for `-`.
pub fn json_file(flag: &str, path: &str) -> Result<Value, Failure> {
    let text = if path == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| Failure::Input(format!("{flag}: reading standard input: {e}")))?
    } else {
        std::fs::read_to_string(path).map_err(|e| Failure::Input(format!("{flag} {path}: {e}")))?
    };
    json_arg(flag, &text)
}

/// Runs one client command on a small runtime of its own.
pub fn block_on<F: std::future::Future<Output = Result<(), Failure>>>(f: F) -> Result<(), Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(f)
}
