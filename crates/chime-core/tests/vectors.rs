//! Every reference vector in `../shared/cron-vectors` through the public API.
//! A missing vector file fails the test: it is never skipped.

use chime_core::{Cron, Zone};
use jiff::Timestamp;
use serde_json::Value;
use std::path::PathBuf;

fn vector_dir() -> PathBuf {
    match std::env::var_os("CHIME_CRON_VECTORS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cron-vectors"),
    }
}

fn lines(file: &str) -> Vec<Value> {
    let path = vector_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (set CHIME_CRON_VECTORS)",
            path.display()
        )
    });
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("vector line is JSON"))
        .collect()
}

fn format_utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[test]
fn reproduces_every_valid_vector() {
    let vectors = lines("public.jsonl");
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
    let vectors = lines("public-invalid.jsonl");
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
