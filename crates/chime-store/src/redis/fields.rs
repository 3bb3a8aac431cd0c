//! Records as the scripts return them (hash fields as text, ledger entries
//! as JSON numbers), read through the same decoders as the SQL rows.

use crate::rows::Cols;
use crate::{Result, StoreError};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// One record: a JSON object of field → value, borrowed from a script's
/// reply where it can be (a claim's reply holds hundreds), and the values
/// of fields the record leaves out (a job's spec does not store defaults).
pub struct Fields<'a>(
    pub Cow<'a, Map<String, Value>>,
    Option<&'static Map<String, Value>>,
);

/// Job spec fields at these values are not stored: a typical job's spec
/// then holds about half its fields, which Redis writes, reads and keeps
/// once per job. The values are the store's own, fixed for the specs
/// already written, whatever the job template's defaults become. lib_jobs.lua's
/// JOB_DEFAULTS holds the same table.
pub const JOB_DEFAULTS: [(&str, &str); 8] = [
    ("attempt", "0"),
    ("namespace", "default"),
    ("payload", "null"),
    ("priority", "0"),
    ("max_attempts", "3"),
    ("timeout_ms", "60000"),
    ("backoff_initial_ms", "1000"),
    ("backoff_max_ms", "300000"),
];

static JOB_DEFAULT_VALUES: std::sync::LazyLock<Map<String, Value>> =
    std::sync::LazyLock::new(|| {
        JOB_DEFAULTS
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect()
    });

impl<'a> Fields<'a> {
    pub fn owned(map: Map<String, Value>) -> Fields<'static> {
        Fields(Cow::Owned(map), None)
    }

    fn borrowed(map: &'a Map<String, Value>) -> Fields<'a> {
        Fields(Cow::Borrowed(map), None)
    }

    /// The record read as a job's: absent fields take JOB_DEFAULTS.
    pub fn job(self) -> Fields<'a> {
        Fields(self.0, Some(&JOB_DEFAULT_VALUES))
    }

    fn get(&self, col: &str) -> Option<&Value> {
        match self.0.get(col).filter(|v| !v.is_null()) {
            None => self.1.and_then(|d| d.get(col)),
            found => found,
        }
    }

    fn missing(col: &str) -> StoreError {
        StoreError::corrupt(format!("field {col} missing"))
    }
}

fn as_i64(v: &Value, col: &str) -> Result<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .ok_or_else(|| StoreError::corrupt(format!("field {col}: {n}"))),
        Value::String(s) => parse_i64(s, col),
        other => Err(StoreError::corrupt(format!("field {col}: {other}"))),
    }
}

fn parse_i64(s: &str, col: &str) -> Result<i64> {
    s.parse()
        .map_err(|_| StoreError::corrupt(format!("field {col}: {s:?}")))
}

impl Cols for Fields<'_> {
    fn i64(&self, col: &str) -> Result<i64> {
        as_i64(self.get(col).ok_or_else(|| Fields::missing(col))?, col)
    }
    fn opt_i64(&self, col: &str) -> Result<Option<i64>> {
        self.get(col).map(|v| as_i64(v, col)).transpose()
    }
    fn i32(&self, col: &str) -> Result<i32> {
        i32::try_from(self.i64(col)?).map_err(|_| StoreError::corrupt(format!("field {col}")))
    }
    fn text(&self, col: &str) -> Result<&str> {
        self.opt_text(col)?.ok_or_else(|| Fields::missing(col))
    }
    fn opt_text(&self, col: &str) -> Result<Option<&str>> {
        match self.get(col) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(StoreError::corrupt(format!("field {col}: {other}"))),
        }
    }
}

/// A job's spec as a claim's reply gives it, read in place: its field and
/// value strings in turn, under the fields the claim itself set (and the
/// job's state holds) and over JOB_DEFAULTS. A claim returns hundreds of jobs, and a map built per job
/// was most of what a claim cost the client.
pub struct FlatJob<'a> {
    pub set: &'a [(&'static str, &'a str)],
    pub hash: &'a [String],
}

impl FlatJob<'_> {
    fn get(&self, col: &str) -> Option<&str> {
        fn found<'v>(pairs: &[(&str, &'v str)], col: &str) -> Option<&'v str> {
            pairs.iter().find(|(n, _)| *n == col).map(|p| p.1)
        }
        found(self.set, col)
            .or_else(|| {
                self.hash
                    .chunks_exact(2)
                    .find(|f| f[0] == col)
                    .map(|f| f[1].as_str())
            })
            .or_else(|| found(&JOB_DEFAULTS, col))
    }
}

impl Cols for FlatJob<'_> {
    fn i64(&self, col: &str) -> Result<i64> {
        parse_i64(self.text(col)?, col)
    }
    fn opt_i64(&self, col: &str) -> Result<Option<i64>> {
        self.get(col).map(|s| parse_i64(s, col)).transpose()
    }
    fn i32(&self, col: &str) -> Result<i32> {
        i32::try_from(self.i64(col)?).map_err(|_| StoreError::corrupt(format!("field {col}")))
    }
    fn text(&self, col: &str) -> Result<&str> {
        self.get(col).ok_or_else(|| Fields::missing(col))
    }
    fn opt_text(&self, col: &str) -> Result<Option<&str>> {
        Ok(self.get(col))
    }
}

/// The records under `name` in a script's reply; cjson writes an empty
/// list as `{}`, which is read as no records.
pub fn records<'a>(reply: &'a Value, name: &str) -> Result<Vec<Fields<'a>>> {
    match reply.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) if m.is_empty() => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::Object(m) => Ok(Fields::borrowed(m)),
                other => Err(StoreError::corrupt(format!("{name}: {other}"))),
            })
            .collect(),
        Some(other) => Err(StoreError::corrupt(format!("{name}: {other}"))),
    }
}

/// A list of plain values under `name` (same `{}` rule).
pub fn values<'a>(reply: &'a Value, name: &str) -> Vec<&'a Value> {
    match reply.get(name) {
        Some(Value::Array(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

/// One record under `name`.
pub fn record<'a>(reply: &'a Value, name: &str) -> Result<Fields<'a>> {
    match reply.get(name) {
        Some(Value::Object(m)) => Ok(Fields::borrowed(m)),
        other => Err(StoreError::corrupt(format!("{name}: {other:?}"))),
    }
}
