//! A schedule's record in Redis. What is its own (its name, its payload,
//! its version and times) is one short string in the `sr` hash; the rest
//! of its spec, its template, is stored once in `tpl` for every schedule
//! that shares it. Schedules made by a program (one per account, per
//! tenant, per region) differ in little but their name and payload, and
//! their shared URL, kind, queue, cron and zone were most of each record.
//!
//! The record, as lib.lua writes it: "ref,paused,version,next_fire_ms,
//! created_ms,updated_ms,bucket,name_bytes|" then the name, then the
//! payload's JSON ('' for none); next_fire_ms is empty when there is none.

use super::schedule_key;
use crate::rows::{spec_json, ts};
use crate::{Result, StoreError};
use chime_core::model::{Schedule, ScheduleSpec};
use serde_json::Value;
use std::collections::HashMap;

/// A spec split for storage: the template's text and its reference (a
/// hash of the text; lib.lua resolves the rare collision), the name and
/// the payload's JSON ('' for none).
pub struct Parts {
    pub reference: String,
    pub template: String,
    pub name: String,
    pub payload: String,
}

pub fn parts(spec: &ScheduleSpec) -> Result<Parts> {
    let mut shared = spec.clone();
    shared.name = String::new();
    let payload = std::mem::take(&mut shared.job.payload);
    let template = spec_json(&shared)?;
    let payload = match payload {
        Value::Null => String::new(),
        p => serde_json::to_string(&p).map_err(StoreError::backend)?,
    };
    Ok(Parts {
        reference: reference(&template),
        template,
        name: spec.name.clone(),
        payload,
    })
}

/// FNV-1a (64 bits) of the template, in 11 of the keys' digits. Not a
/// secure hash and need not be: lib.lua compares the stored text before
/// sharing it, and gives a colliding template a reference of its own.
fn reference(template: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in template.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut out: String = (0..10)
        .map(|i| schedule_key::digit(h >> (58 - 6 * i)))
        .collect();
    out.push(schedule_key::digit((h & 15) << 2));
    out
}

/// Templates parsed once per reply, by reference.
#[derive(Default)]
pub struct Templates(HashMap<String, ScheduleSpec>);

impl Templates {
    pub fn add(&mut self, reference: String, text: &str) -> Result<()> {
        let spec = serde_json::from_str(text)
            .map_err(|e| StoreError::corrupt(format!("schedule template {reference}: {e}")))?;
        self.0.insert(reference, spec);
        Ok(())
    }

    /// The schedule under `key` from its record.
    pub fn schedule(&self, key: &str, raw: &str) -> Result<Schedule> {
        let corrupt =
            |why: &str| StoreError::corrupt(format!("schedule record {key}: {why}: {raw:.80?}"));
        let id = schedule_key::id(key).ok_or_else(|| corrupt("not a schedule key"))?;
        let (head, rest) = raw.split_once('|').ok_or_else(|| corrupt("no header"))?;
        let [reference, _paused, version, next, created, updated, _bucket, name_len] =
            head.split(',').collect::<Vec<_>>()[..]
        else {
            return Err(corrupt("header"));
        };
        let number = |text: &str| text.parse::<i64>().map_err(|_| corrupt("a number"));
        let name_len = number(name_len)? as usize;
        let (name, payload) = (rest.get(..name_len), rest.get(name_len..));
        let (Some(name), Some(payload)) = (name, payload) else {
            return Err(corrupt("name length"));
        };
        let mut spec = self
            .0
            .get(reference)
            .cloned()
            .ok_or_else(|| corrupt("no template"))?;
        spec.name = name.to_string();
        if !payload.is_empty() {
            spec.job.payload = serde_json::from_str(payload).map_err(|_| corrupt("payload"))?;
        }
        Ok(Schedule {
            id,
            spec,
            version: number(version)? as u64,
            next_fire_at: if next.is_empty() {
                None
            } else {
                Some(ts(number(next)?)?)
            },
            created_at: ts(number(created)?)?,
            updated_at: ts(number(updated)?)?,
        })
    }
}

/// A schedule as lib.lua's schedule_doc gives it: {key, record, template}.
pub fn from_doc(doc: &Value) -> Result<Schedule> {
    let field = |name: &str| {
        doc.get(name).and_then(Value::as_str).ok_or_else(|| {
            StoreError::corrupt(format!("schedule reply without {name}: {doc:.120}"))
        })
    };
    let raw = field("record")?;
    let reference = raw.split(',').next().unwrap_or_default();
    let mut templates = Templates::default();
    templates.add(reference.to_string(), field("template")?)?;
    templates.schedule(field("key")?, raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: Value) -> ScheduleSpec {
        serde_json::from_value(json).expect("spec")
    }

    /// What lib.lua writes for these parts.
    fn record(p: &Parts, next: &str) -> String {
        format!(
            "{},0,4,{next},1000,2000,7,{}|{}{}",
            p.reference,
            p.name.len(),
            p.name,
            p.payload
        )
    }

    #[test]
    fn a_spec_comes_back_from_its_parts() {
        for json in [
            serde_json::json!({"name": "nightly|report é", "cron": "15 2 * * *", "timezone": "Europe/Berlin",
                "job": {"kind": "report", "queue": "reports", "payload": {"account": 7, "s": "a|b"},
                        "target": {"http": {"url": "https://api.example.com/hooks"}}}}),
            serde_json::json!({"name": "", "every": "5m", "job": {"kind": "k"}, "paused": true}),
        ] {
            let spec = spec(json);
            let p = parts(&spec).expect("parts");
            assert!(!p.template.contains("account"), "{}", p.template);
            let mut templates = Templates::default();
            templates
                .add(p.reference.clone(), &p.template)
                .expect("template");
            let key = schedule_key::of("01a24f71-6c4d-76a1-87a6-6047ea29a661");
            let back = templates
                .schedule(&key, &record(&p, "3000"))
                .expect("schedule");
            assert_eq!(back.spec, spec);
            assert_eq!(
                (back.version, back.next_fire_at.map(|t| t.as_millisecond())),
                (4, Some(3000))
            );
            let none = templates.schedule(&key, &record(&p, "")).expect("schedule");
            assert_eq!(none.next_fire_at, None);
        }
    }

    #[test]
    fn schedules_differing_in_name_and_payload_share_a_template() {
        let make = |i: u32| {
            spec(
                serde_json::json!({"name": format!("report-{i}"), "cron": "0 * * * *",
                "job": {"kind": "k", "payload": {"account": i}}}),
            )
        };
        let (a, b) = (parts(&make(1)).expect("a"), parts(&make(2)).expect("b"));
        assert_eq!((a.reference.len(), &a.template), (11, &b.template));
        assert_eq!(a.reference, b.reference);
        let other = parts(&spec(
            serde_json::json!({"name": "x", "cron": "1 * * * *", "job": {"kind": "k"}}),
        ))
        .expect("other");
        assert_ne!(other.reference, a.reference);
    }

    #[test]
    fn a_damaged_record_is_an_error_not_a_panic() {
        let p = parts(&spec(
            serde_json::json!({"name": "ab", "every": "1m", "job": {"kind": "k"}}),
        ))
        .expect("parts");
        let mut templates = Templates::default();
        templates
            .add(p.reference.clone(), &p.template)
            .expect("template");
        let key = schedule_key::of("01a24f71-6c4d-76a1-87a6-6047ea29a661");
        let good = record(&p, "5");
        for raw in [
            "".to_string(),
            good.replace('|', ""),
            good.replacen(",2|", ",99|", 1),
            good.replacen(",4,", ",x,", 1),
            format!("unknown{good}"),
            format!("{good}{{"),
        ] {
            assert!(templates.schedule(&key, &raw).is_err(), "{raw}");
        }
        assert!(templates.schedule("not a key", &good).is_err());
    }
}
