//! HTTP callback target (DESIGN §6). The body is the job payload; headers
//! identify the job and attempt. 2xx succeeds; 408, 429, 5xx, connection
//! errors and timeouts retry (honouring `Retry-After`); other statuses fail
//! without retry.

use super::{bounded, JobContext, JobError, JobResult};
use chime_core::model::{HttpTarget, Job};
use jiff::{SignedDuration, Timestamp};
use std::time::Duration;

/// Response bytes kept with the attempt.
const MAX_OUTPUT: usize = 16 * 1024;

pub struct HttpExecutor {
    client: reqwest::Client,
    signing_secret: Option<Vec<u8>>,
}

impl HttpExecutor {
    pub fn new(signing_secret: Option<Vec<u8>>) -> Result<HttpExecutor, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("chime/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(HttpExecutor {
            client,
            signing_secret,
        })
    }

    pub async fn run(&self, target: &HttpTarget, job: &Job, ctx: &JobContext) -> JobResult {
        let body = serde_json::to_vec(&job.job.payload)
            .map_err(|e| JobError::Fail(format!("payload: {e}")))?;
        let method = reqwest::Method::from_bytes(target.method.as_bytes())
            .map_err(|_| JobError::Fail(format!("invalid method {:?}", target.method)))?;
        let mut req = self.client.request(method, &target.url);
        // The target's own headers first, so chime's cannot be overridden.
        for (name, value) in &target.headers {
            req = req.header(name.as_str(), value.as_str());
        }
        req = req
            .header("Content-Type", "application/json")
            .header("Chime-Job-Id", job.id.as_str())
            .header("Chime-Attempt", ctx.attempt.to_string())
            .header("Idempotency-Key", ctx.idempotency_key.as_str());
        if let Some(schedule) = &job.schedule_id {
            req = req.header("Chime-Schedule-Id", schedule.as_str());
        }
        if let Some(at) = job.scheduled_for {
            req = req.header(
                "Chime-Scheduled-At",
                at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            );
        }
        if let Some(secret) = &self.signing_secret {
            req = req.header("Chime-Signature", signature(secret, &body));
        }
        let response = req.body(body).send().await.map_err(|e| {
            JobError::retry(format!(
                "request to {} failed: {}",
                target.url,
                error_chain(&e)
            ))
        })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Timestamp::now()));
        let text = match response.text().await {
            Ok(text) => bounded(&text, MAX_OUTPUT),
            Err(e) => format!("(body unreadable: {e})"),
        };
        let summary = format!("HTTP {}: {}", status.as_u16(), bounded(&text, 512));
        match status.as_u16() {
            200..=299 => Ok(Some(text)),
            408 | 429 | 500..=599 => Err(JobError::Retry {
                error: summary,
                after: retry_after,
            }),
            _ => Err(JobError::Fail(summary)),
        }
    }
}

/// Lowercase hex of HMAC-SHA256(secret, body).
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    crate::auth::hex(ring::hmac::sign(&key, body).as_ref())
}

/// `Retry-After` as delta-seconds or an HTTP date, capped at a day.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<SignedDuration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(chime_core::retry::retry_after_delay(secs));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    let secs = at.duration_since(now).as_secs().max(0) as u64;
    Some(chime_core::retry::retry_after_delay(secs))
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_rfc_4231_case_2() {
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn retry_after_forms() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(SignedDuration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 2026 00:01:30 GMT", now),
            Some(SignedDuration::from_secs(90))
        );
        assert_eq!(
            parse_retry_after("9999999", now),
            Some(SignedDuration::from_secs(86_400))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
