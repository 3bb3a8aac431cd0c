//! Schedules: when to make jobs, and what job to make.

use super::job::JobTemplate;
use super::validate::{self, FieldError};
use crate::schedule::interval::Interval;
use crate::schedule::{ScheduleTimes, Trigger};
use crate::{Cron, Zone};
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MisfirePolicy {
    /// One catch-up job, for the latest missed fire.
    #[default]
    FireOnce,
    /// A job for every missed fire, the latest `catchup_limit` of them.
    FireAll,
    /// No catch-up; missed fires are recorded in the ledger.
    Skip,
}

/// What happens to fires that were due while no instance ran (DESIGN §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Misfire {
    pub policy: MisfirePolicy,
    pub catchup_limit: u32,
    /// Missed fires older than this are skipped and counted, whatever the policy.
    pub catchup_window_ms: u64,
}

impl Default for Misfire {
    fn default() -> Self {
        Misfire {
            policy: MisfirePolicy::FireOnce,
            catchup_limit: 100,
            catchup_window_ms: 86_400_000,
        }
    }
}

// Accepts the policy alone (`"misfire": "skip"`) or the full object.
impl<'de> Deserialize<'de> for Misfire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            #[serde(default)]
            policy: MisfirePolicy,
            catchup_limit: Option<u32>,
            catchup_window_ms: Option<u64>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Policy(MisfirePolicy),
            Full(Full),
        }
        let defaults = Misfire::default();
        Ok(match Either::deserialize(d)? {
            Either::Policy(policy) => Misfire { policy, ..defaults },
            Either::Full(f) => Misfire {
                policy: f.policy,
                catchup_limit: f.catchup_limit.unwrap_or(defaults.catchup_limit),
                catchup_window_ms: f.catchup_window_ms.unwrap_or(defaults.catchup_window_ms),
            },
        })
    }
}

/// What a fire does while the schedule's previous job is still pending or running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    #[default]
    Allow,
    /// Record the occurrence as skipped.
    Skip,
    /// Cancel the previous job, then fire.
    Replace,
}

/// A schedule as a user defines it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    pub name: String,
    #[serde(default = "super::default_namespace")]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub at: Option<Timestamp>,
    /// IANA zone for `cron`; the server's default zone when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    pub job: JobTemplate,
    #[serde(default)]
    pub misfire: Misfire,
    #[serde(default)]
    pub overlap: Overlap,
    #[serde(default)]
    pub jitter_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub start_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub end_at: Option<Timestamp>,
    #[serde(default)]
    pub paused: bool,
    /// Who hears when one of this schedule's jobs goes dead or a fire is missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<OnFailure>,
}

/// Who hears when a job goes dead or fires are missed: a signed webhook
/// and/or email addresses (the server needs SMTP settings for email).
/// Each is delivered as a job of its own, retried like any job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OnFailure {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<super::job::HttpTarget>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email: Vec<String>,
}

impl OnFailure {
    pub fn validate(&self) -> Result<(), FieldError> {
        if let Some(webhook) = &self.webhook {
            super::job::validate_http(webhook).map_err(|e| e.within("webhook"))?;
        }
        if self.webhook.is_none() && self.email.is_empty() {
            return Err(FieldError::new(
                "webhook",
                "give a webhook, email addresses, or both",
            ));
        }
        if self.email.len() > 20 {
            return Err(FieldError::new("email", "at most 20 addresses"));
        }
        for address in &self.email {
            let plausible = address.len() <= 254
                && address.split_once('@').is_some_and(|(user, host)| {
                    !user.is_empty() && host.contains('.') && !host.ends_with('.')
                })
                && !address
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
            if !plausible {
                return Err(FieldError::new(
                    "email",
                    format!("{address:?} is not an email address"),
                ));
            }
        }
        Ok(())
    }
}

impl ScheduleSpec {
    /// Validates every field and builds the fire-time calculator.
    pub fn times(&self, default_zone: &Zone) -> Result<ScheduleTimes, FieldError> {
        if self.name.trim().is_empty() || self.name.len() > 256 {
            return Err(FieldError::new("name", "must be 1 to 256 characters"));
        }
        validate::name("namespace", &self.namespace)?;
        self.job.validate().map_err(|e| e.within("job"))?;
        if let Some(on_failure) = &self.on_failure {
            on_failure.validate().map_err(|e| e.within("on_failure"))?;
        }
        validate::range(
            "misfire.catchup_limit",
            self.misfire.catchup_limit,
            1,
            100_000,
        )?;
        validate::range("jitter_ms", self.jitter_ms, 0, 86_400_000)?;
        let zone = match &self.timezone {
            Some(name) => {
                Zone::get(name).map_err(|e| FieldError::new("timezone", e.to_string()))?
            }
            None => default_zone.clone(),
        };
        let trigger = match (&self.cron, &self.every, self.at) {
            (Some(cron), None, None) => Trigger::cron(
                Cron::parse(cron).map_err(|e| FieldError::new("cron", e.to_string()))?,
                zone,
            ),
            (None, Some(every), None) => Trigger::Every {
                interval: Interval::parse(every)
                    .map_err(|e| FieldError::new("every", e.to_string()))?,
                anchor: None,
            },
            (None, None, Some(at)) => Trigger::At(at),
            (None, None, None) => {
                return Err(FieldError::new(
                    "cron",
                    "one of cron, every or at is required",
                ))
            }
            _ => {
                return Err(FieldError::new(
                    "cron",
                    "give only one of cron, every or at",
                ))
            }
        };
        ScheduleTimes::new(trigger, self.start_at, self.end_at)
            .map_err(|e| FieldError::new("end_at", e.to_string()))
    }
}

/// A stored schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Schedule {
    pub id: String,
    #[serde(flatten)]
    pub spec: ScheduleSpec,
    /// Bumped by every change made through the API (optimistic concurrency).
    pub version: u64,
    /// `None` when the schedule has no fire left.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub next_fire_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

/// The bucket a schedule lives in: FNV-1a of its id, stable across versions
/// and instances (DESIGN §4).
pub fn bucket_of(id: &str, buckets: u32) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in id.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h % buckets.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> Result<ScheduleSpec, serde_json::Error> {
        serde_json::from_value(json)
    }

    #[test]
    fn misfire_accepts_string_or_object() {
        let s = spec(
            serde_json::json!({"name": "a", "cron": "* * * * *", "job": {}, "misfire": "skip"}),
        )
        .unwrap();
        assert_eq!(s.misfire.policy, MisfirePolicy::Skip);
        assert_eq!(s.misfire.catchup_limit, 100);
        let s = spec(serde_json::json!({"name": "a", "every": "1m", "job": {}, "misfire": {"policy": "fire_all", "catchup_limit": 5}})).unwrap();
        assert_eq!(
            (s.misfire.policy, s.misfire.catchup_limit),
            (MisfirePolicy::FireAll, 5)
        );
    }

    #[test]
    fn validation_names_the_field() {
        let utc = Zone::utc();
        let cases = [
            (serde_json::json!({"name": "a", "job": {}}), "cron"),
            (
                serde_json::json!({"name": "a", "cron": "* * * * *", "every": "1m", "job": {}}),
                "cron",
            ),
            (
                serde_json::json!({"name": "a", "cron": "61 * * * *", "job": {}}),
                "cron",
            ),
            (
                serde_json::json!({"name": "a", "cron": "* * * * *", "timezone": "Nowhere/X", "job": {}}),
                "timezone",
            ),
            (
                serde_json::json!({"name": "a", "every": "0s", "job": {}}),
                "every",
            ),
            (
                serde_json::json!({"name": "", "every": "1m", "job": {}}),
                "name",
            ),
            (
                serde_json::json!({"name": "a", "every": "1m", "job": {"max_attempts": 0}}),
                "job.max_attempts",
            ),
            (
                serde_json::json!({"name": "a", "every": "1m", "job": {}, "start_at": "2026-02-01T00:00:00Z", "end_at": "2026-01-01T00:00:00Z"}),
                "end_at",
            ),
        ];
        for (json, field) in cases {
            let err = spec(json.clone()).unwrap().times(&utc).unwrap_err();
            assert_eq!(err.field, field, "{json}: {err}");
        }
    }

    #[test]
    fn buckets_are_stable_and_spread() {
        assert_eq!(
            bucket_of("0190f5c2-0000-7000-8000-000000000000", 256),
            bucket_of("0190f5c2-0000-7000-8000-000000000000", 256)
        );
        let mut seen = [0u32; 16];
        for i in 0..1600 {
            seen[bucket_of(&crate::model::new_id(), 16) as usize] += 1;
            let _ = i;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
    }
}
