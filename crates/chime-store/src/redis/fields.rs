//! Records as the scripts return them (hash fields as text, ledger entries
//! as JSON numbers), read through the same decoders as the SQL rows.

use crate::rows::Cols;
use crate::{Result, StoreError};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// One record: a JSON object of field → value, borrowed from a script's
/// reply where it can be (a claim's reply holds hundreds).
pub struct Fields<'a>(pub Cow<'a, Map<String, Value>>);

impl Fields<'_> {
    pub fn owned(map: Map<String, Value>) -> Fields<'static> {
        Fields(Cow::Owned(map))
    }

    fn get(&self, col: &str) -> Option<&Value> {
        self.0.get(col).filter(|v| !v.is_null())
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
        Value::String(s) => s
            .parse()
            .map_err(|_| StoreError::corrupt(format!("field {col}: {s:?}"))),
        other => Err(StoreError::corrupt(format!("field {col}: {other}"))),
    }
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

/// The records under `name` in a script's reply; cjson writes an empty
/// list as `{}`, which is read as no records.
pub fn records<'a>(reply: &'a Value, name: &str) -> Result<Vec<Fields<'a>>> {
    match reply.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) if m.is_empty() => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::Object(m) => Ok(Fields(Cow::Borrowed(m))),
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
        Some(Value::Object(m)) => Ok(Fields(Cow::Borrowed(m))),
        other => Err(StoreError::corrupt(format!("{name}: {other:?}"))),
    }
}
