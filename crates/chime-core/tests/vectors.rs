//! Every reference vector in `../shared/cron-vectors` through the public API.
//! A missing vector file fails the test: it is never skipped.

use chime_core::{Cron, Zone};
use jiff::Timestamp;
use serde_json::Value;

#[path = "support/vectors.rs"]
mod vectors;

fn format_utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[test]
fn reproduces_every_valid_vector() {
    let vectors = vectors::load("public.jsonl");
    assert!(
        vectors.len() >= 2375,
        "expected the full vector file, got {}",
        vectors.len()
    );
    let mut failures = Vec::new();
    for v in &vectors {
        let expr = v["expr"].as_str().expect("expr");
        let zone = Zone::get(v["tz"].as_str().expect("tz")).expect("known zone");
        let after: Timestamp = v["after"]
            .as_str()
            .expect("after")
            .parse()
            .expect("instant");
        let want: Vec<&str> = v["next"]
            .as_array()
            .expect("next")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let got: Vec<String> = match Cron::parse(expr) {
            Ok(cron) => cron
                .fires_after(after, &zone)
                .take(want.len())
                .map(format_utc)
                .collect(),
            Err(e) => vec![format!("rejected: {e}")],
        };
        if got != want {
            failures.push(format!(
                "{expr:?} in {} after {after}:\n  want {want:?}\n  got  {got:?}",
                zone.name()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors differ:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
fn rejects_every_invalid_vector() {
    let vectors = vectors::load("public-invalid.jsonl");
    assert!(vectors.len() >= 25);
    for v in &vectors {
        let expr = v["expr"].as_str().expect("expr");
        assert_eq!(v["valid"], Value::Bool(false));
        let err = Cron::parse(expr)
            .err()
            .unwrap_or_else(|| panic!("{expr:?} was accepted"));
        assert!(!err.reason.is_empty(), "{expr:?}: empty reason");
    }
}
