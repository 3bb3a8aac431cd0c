use std::fmt;

/// The fields of a cron expression, in 7-field order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CronField {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
    Year,
}

impl CronField {
    pub fn name(self) -> &'static str {
        match self {
            CronField::Second => "second",
            CronField::Minute => "minute",
            CronField::Hour => "hour",
            CronField::DayOfMonth => "day-of-month",
            CronField::Month => "month",
            CronField::DayOfWeek => "day-of-week",
            CronField::Year => "year",
        }
    }

    /// Smallest and largest plain value the field accepts.
    pub fn bounds(self) -> (u32, u32) {
        match self {
            CronField::Second | CronField::Minute => (0, 59),
            CronField::Hour => (0, 23),
            CronField::DayOfMonth => (1, 31),
            CronField::Month => (1, 12),
            CronField::DayOfWeek => (0, 7),
            CronField::Year => (super::fields::MIN_YEAR, super::fields::MAX_YEAR),
        }
    }
}

impl fmt::Display for CronField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an expression was rejected: the field, the offending token and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CronError {
    /// `None` when the problem is the expression as a whole (field count, macro).
    pub field: Option<CronField>,
    /// The offending text, exactly as written.
    pub token: String,
    pub reason: String,
}

impl CronError {
    pub(crate) fn field(field: CronField, token: &str, reason: impl Into<String>) -> CronError {
        CronError {
            field: Some(field),
            token: token.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn whole(token: &str, reason: impl Into<String>) -> CronError {
        CronError {
            field: None,
            token: token.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "{field} field {:?}: {}", self.token, self.reason),
            None => write!(f, "cron expression {:?}: {}", self.token, self.reason),
        }
    }
}
