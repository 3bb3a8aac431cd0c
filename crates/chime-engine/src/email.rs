//! Failure emails over SMTP. An email is a job of kind `chime.email` on the
//! notifications queue, sent by this in-process handler, so it is retried
//! and visible like any other job.

use crate::executor::{JobContext, JobError, JobResult};
use chime_core::model::Job;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use std::sync::Arc;

pub const KIND: &str = "chime.email";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (port 465).
    Tls,
    /// Upgrade with STARTTLS, refusing to send if the server cannot (port 587).
    #[default]
    Starttls,
    /// Plain text: only for a relay on this host or a test server.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: Option<u16>,
    #[serde(default)]
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender, e.g. `chime <chime@example.com>`.
    pub from: String,
}

impl SmtpConfig {
    /// Checks what can be checked without a connection.
    pub fn validate(&self) -> Result<(), String> {
        self.from
            .parse::<Mailbox>()
            .map_err(|e| format!("from: {e}"))?;
        if self.username.is_some() != self.password.is_some() {
            return Err("username and password go together".into());
        }
        self.transport().map(drop)
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let builder = match self.security {
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&self.host),
            Security::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&self.host),
            Security::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                &self.host,
            )),
        }
        .map_err(|e| format!("host: {e}"))?;
        let mut builder = builder.port(self.port.unwrap_or(match self.security {
            Security::Tls => 465,
            Security::Starttls => 587,
            Security::None => 25,
        }));
        if let (Some(u), Some(p)) = (&self.username, &self.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(builder.build())
    }
}

/// What a `chime.email` job carries.
#[derive(Debug, Deserialize)]
struct Mail {
    to: Vec<String>,
    subject: String,
    body: String,
}

/// Sends the email a `chime.email` job describes.
pub async fn send(cfg: &SmtpConfig, job: Arc<Job>, _ctx: JobContext) -> JobResult {
    let mail = Mail::deserialize(&job.job.payload)
        .map_err(|e| JobError::Fail(format!("not an email: {e}")))?;
    let from: Mailbox = cfg
        .from
        .parse()
        .map_err(|e| JobError::Fail(format!("from: {e}")))?;
    let mut message = Message::builder().from(from).subject(mail.subject);
    for to in &mail.to {
        let to: Mailbox = to
            .parse()
            .map_err(|e| JobError::Fail(format!("to {to:?}: {e}")))?;
        message = message.to(to);
    }
    let message = message
        .body(mail.body)
        .map_err(|e| JobError::Fail(format!("building the email: {e}")))?;
    let transport = cfg.transport().map_err(JobError::Fail)?;
    transport.send(message).await.map_err(|e| JobError::Retry {
        error: format!("SMTP: {e}"),
        after: None,
    })?;
    Ok(Some(format!("sent to {}", mail.to.join(", "))))
}
