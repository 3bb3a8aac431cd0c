//! Field-level validation errors: the API turns them into
//! `{"error": {"code", "message", "field"}}` with status 400.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. `job.backoff.initial_ms`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Prefixes the field path, e.g. `queue` inside `job` becomes `job.queue`.
    pub fn within(mut self, parent: &str) -> FieldError {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Names of queues, kinds and namespaces: 1 to 128 characters of letters,
/// digits and `_ - . :`, so they are safe in URLs, metric labels and keys.
pub fn name(field: &str, value: &str) -> Result<(), FieldError> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "must be 1 to 128 characters of letters, digits, '_', '-', '.' or ':'",
        ))
    }
}

pub fn range<T: PartialOrd + fmt::Display + Copy>(
    field: &str,
    value: T,
    lo: T,
    hi: T,
) -> Result<(), FieldError> {
    if value < lo || value > hi {
        return Err(FieldError::new(
            field,
            format!("must be between {lo} and {hi}, got {value}"),
        ));
    }
    Ok(())
}
