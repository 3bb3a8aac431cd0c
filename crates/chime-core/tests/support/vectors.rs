//! Loads `../shared/cron-vectors` (or `$CHIME_CRON_VECTORS`). Shared by the
//! library and binary tests with `#[path]`; a missing file fails the test.

use serde_json::Value;
use std::path::PathBuf;

pub fn load(file: &str) -> Vec<Value> {
    let dir = match std::env::var_os("CHIME_CRON_VECTORS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cron-vectors"),
    };
    let path = dir.join(file);
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
