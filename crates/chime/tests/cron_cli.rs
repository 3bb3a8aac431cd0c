//! `chime cron` through the real binary, as users and outside tests call it
//! (DESIGN §6): every reference vector, and exit status 2 with one stderr
//! line for every invalid one.

use serde_json::Value;

#[path = "../../chime-core/tests/support/vectors.rs"]
mod vectors;
use std::process::{Command, Output};

fn chime(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chime"))
        .args(args)
        .output()
        .expect("run chime")
}

/// Runs `chime cron next ... --json` and parses its output.
fn next_json(args: &[&str]) -> Value {
    let mut all = vec!["cron", "next"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = chime(&all);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn cron_next_json_reproduces_every_vector() {
    let all = vectors::load("public.jsonl");
    assert!(all.len() >= 2375);
    // Two workers per core keep process start-up overlapped.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get() * 2);
    let chunks: Vec<Vec<Value>> = all
        .chunks(all.len().div_ceil(workers))
        .map(<[Value]>::to_vec)
        .collect();
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                s.spawn(move || {
                    let mut failures = Vec::new();
                    for v in chunk {
                        let expr = v["expr"].as_str().expect("expr");
                        let out = chime(&[
                            "cron",
                            "next",
                            expr,
                            "--tz",
                            v["tz"].as_str().expect("tz"),
                            "--after",
                            v["after"].as_str().expect("after"),
                            "--count",
                            "12",
                            "--json",
                        ]);
                        let got: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
                        if !out.status.success() || got != v["next"] {
                            failures.push(format!(
                                "{expr:?} {}: status {:?}, stdout {}, stderr {}",
                                v["tz"],
                                out.status.code(),
                                String::from_utf8_lossy(&out.stdout).trim(),
                                String::from_utf8_lossy(&out.stderr).trim()
                            ));
                        }
                    }
                    failures
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} vectors differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn invalid_expressions_exit_2_with_one_line_naming_the_problem() {
    for v in vectors::load("public-invalid.jsonl") {
        let expr = v["expr"].as_str().expect("expr");
        let out = chime(&["cron", "next", expr, "--json"]);
        assert_eq!(out.status.code(), Some(2), "{expr:?}");
        assert!(out.stdout.is_empty(), "{expr:?} printed to stdout");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{expr:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{expr:?}: {stderr}");
    }
}

#[test]
fn errors_name_the_field_and_the_token() {
    for (expr, field, token) in [
        ("0 0 32 * *", "day-of-month", "\"32\""),
        ("* * * * MOO", "day-of-week", "\"MOO\""),
        ("*/0 * * * *", "minute", "\"*/0\""),
        ("* 0-24 * * *", "hour", "\"0-24\""),
        ("0 0 30 2 *", "day-of-month", "\"30\""),
        ("* * * * 1-5#2", "day-of-week", "\"1-5#2\""),
        ("0 0 0 1 1 * 1969", "year", "\"1969\""),
    ] {
        let out = chime(&["cron", "next", expr]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{expr}");
        assert!(
            stderr.contains(field) && stderr.contains(token),
            "{expr}: {stderr}"
        );
    }
}

#[test]
fn bad_zone_and_bad_instant_exit_2() {
    let zone = chime(&["cron", "next", "* * * * *", "--tz", "Mars/Base"]);
    assert_eq!(zone.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&zone.stderr).contains("Mars/Base"));
    let after = chime(&["cron", "next", "* * * * *", "--after", "yesterday"]);
    assert_eq!(after.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&after.stderr).contains("--after"));
}

#[test]
fn next_is_strictly_after_and_whole_seconds() {
    let got = next_json(&[
        "*/10 * * * * *",
        "--after",
        "2026-01-15T10:17:20Z",
        "--count",
        "2",
    ]);
    assert_eq!(
        got,
        serde_json::json!(["2026-01-15T10:17:30Z", "2026-01-15T10:17:40Z"])
    );
    let got = next_json(&[
        "* * * * * *",
        "--after",
        "2026-01-15T10:17:20.5Z",
        "--count",
        "1",
    ]);
    assert_eq!(got, serde_json::json!(["2026-01-15T10:17:21Z"]));
}

#[test]
fn explain_gives_sentence_fires_and_dst_warnings() {
    let out = chime(&[
        "cron",
        "explain",
        "30 2 * * *",
        "--tz",
        "Asia/Shanghai",
        "--after",
        "2026-01-15T00:00:00Z",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("At 02:30 every day (Asia/Shanghai)\n"),
        "{text}"
    );
    assert!(
        text.contains("2026-01-16 02:30:00 +08:00   2026-01-15T18:30:00Z"),
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.contains("+08:00")).count(),
        5,
        "{text}"
    );
    assert!(!text.contains("warning"), "{text}");

    let dst = chime(&[
        "cron",
        "explain",
        "30 2 * * *",
        "--tz",
        "America/New_York",
        "--after",
        "2026-03-07T12:00:00Z",
    ]);
    let text = String::from_utf8_lossy(&dst.stdout);
    assert!(
        text.contains("2026-03-08 03:00:00 -04:00   2026-03-08T07:00:00Z"),
        "{text}"
    );
    assert!(
        text.contains("warning: 02:30 does not exist on 2026-03-08"),
        "{text}"
    );

    let overlap = chime(&[
        "cron",
        "explain",
        "30 1 * * *",
        "--tz",
        "Europe/London",
        "--after",
        "2026-10-24T12:00:00Z",
    ]);
    let text = String::from_utf8_lossy(&overlap.stdout);
    assert!(
        text.contains("happens twice") && text.contains("first pass only"),
        "{text}"
    );
}

#[test]
fn every_macro_counts_from_the_epoch() {
    let got = next_json(&[
        "@every 90s",
        "--after",
        "2026-01-15T10:17:23Z",
        "--count",
        "2",
    ]);
    // 1768472243 s since the epoch; the next multiples of 90 s.
    assert_eq!(
        got,
        serde_json::json!(["2026-01-15T10:18:00Z", "2026-01-15T10:19:30Z"])
    );
}
