//! The occurrence ledger: what happened to every fire instant of a schedule.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OccurrenceOutcome {
    /// A job was made (`job_id`).
    Fired,
    /// Deliberately not fired: overlap, paused, outside start/end.
    Skipped,
    /// Not fired because no instance was there in time (misfire policy, window).
    Missed,
}

impl OccurrenceOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            OccurrenceOutcome::Fired => "fired",
            OccurrenceOutcome::Skipped => "skipped",
            OccurrenceOutcome::Missed => "missed",
        }
    }

    pub fn parse(s: &str) -> Option<OccurrenceOutcome> {
        match s {
            "fired" => Some(OccurrenceOutcome::Fired),
            "skipped" => Some(OccurrenceOutcome::Skipped),
            "missed" => Some(OccurrenceOutcome::Missed),
            _ => None,
        }
    }
}

/// One ledger entry. A run of missed fires (an every-second schedule down
/// for a day) is one entry with `count` and `last_scheduled_for`, not 86,400.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Occurrence {
    pub schedule_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub scheduled_for: Timestamp,
    pub outcome: OccurrenceOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Fires this entry stands for (1 unless it records a run).
    pub count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_scheduled_for: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub recorded_at: Timestamp,
}
