//! The OpenAPI document against the real server: schemathesis (a
//! property-based API tester) sends thousands of generated requests to
//! every operation; none may get a 5xx, an undocumented status, or a
//! response that breaks the document's schema. `scripts/test` installs
//! schemathesis; without it this test fails, it does not skip.

mod support;

use std::process::Command;
use support::Chime;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_5xx_and_no_schema_violation() {
    let dir = tempfile::tempdir().unwrap();
    let chime = Chime::start(&dir.path().join("api.db"), &[]).await;
    let doc: serde_json::Value = reqwest::get(chime.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(
        doc["paths"].as_object().unwrap().len() >= 21,
        "every route is documented"
    );

    let out = tokio::task::spawn_blocking({
        let url = chime.url("/openapi.json");
        let report = dir.path().to_path_buf();
        move || {
            Command::new("python3")
                .args(["-m", "schemathesis.cli", "run", &url])
                .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"])
                .args(["--max-examples", "50", "--seed", "20261121"])
                // Long polls of up to 30 s each; tests/workers.rs covers claim.
                .args(["--exclude-path", "/api/v1/queues/{queue}/claim"])
                .current_dir(report)
                .env("NO_COLOR", "1")
                .output()
        }
    })
    .await
    .unwrap()
    .expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("No module named schemathesis"),
        "schemathesis is not installed: run scripts/test, or python3 -m pip install schemathesis"
    );
    assert!(out.status.success(), "{text}\n{err}");
    // "2509 generated, 2509 passed"
    let generated: u64 = text
        .lines()
        .find_map(|l| {
            l.trim()
                .split_once(" generated")
                .and_then(|(n, _)| n.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no count in the report:\n{text}"));
    assert!(
        generated >= 1000,
        "only {generated} requests generated:\n{text}"
    );
}
