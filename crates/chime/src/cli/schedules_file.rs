//! The schedules file: `[schedules.KEY]` tables, each a schedule as the API
//! takes it (name defaults to the key). Read at start and on SIGHUP.

use super::Failure;
use chime_core::model::ScheduleSpec;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    schedules: BTreeMap<String, toml::Table>,
}

pub fn load(path: &Path) -> Result<Vec<(String, ScheduleSpec)>, Failure> {
    let fail = |what: String| Failure::Input(format!("schedules file {}: {what}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    parse(&text).map_err(fail)
}

pub fn parse(text: &str) -> Result<Vec<(String, ScheduleSpec)>, String> {
    let file: File = toml::from_str(text).map_err(|e| e.to_string().replace('\n', " "))?;
    let mut out = Vec::with_capacity(file.schedules.len());
    for (key, table) in file.schedules {
        chime_core::model::validate::name("key", &key)
            .map_err(|e| format!("schedules.{key}: {}", e.message))?;
        let mut doc = serde_json::to_value(&table).map_err(|e| format!("schedules.{key}: {e}"))?;
        if doc.get("name").is_none() {
            doc["name"] = serde_json::Value::String(key.clone());
        }
        let spec: ScheduleSpec = serde_path_to_error::deserialize(doc).map_err(|e| {
            let path = e.path().to_string();
            format!("schedules.{key}.{path}: {}", e.inner())
        })?;
        out.push((key, spec));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn reads_tables_and_names_the_bad_field() {
        let ok = parse(
            r#"
            [schedules.nightly]
            cron = "15 2 * * *"
            timezone = "Europe/Berlin"
            job = { kind = "report.nightly", payload = { account = 7 } }

            [schedules.poll]
            name = "Poll the partner API"
            every = "30s"
            [schedules.poll.job]
            kind = "partner.poll"
            target = { http = { url = "https://example.com/poll" } }
            "#,
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(
            (ok[0].0.as_str(), ok[0].1.name.as_str()),
            ("nightly", "nightly")
        );
        assert_eq!(ok[0].1.job.payload["account"], 7);
        assert_eq!(ok[1].1.name, "Poll the partner API");
        let err =
            parse("[schedules.x]\nevery = \"1m\"\njob = { priority = \"high\" }\n").unwrap_err();
        assert!(err.contains("schedules.x.job.priority"), "{err}");
        let err = parse("[schedule.x]\nevery = \"1m\"\n").unwrap_err();
        assert!(err.contains("schedule"), "{err}");
        let err = parse("[schedules.\"a b\"]\nevery = \"1m\"\njob = {}\n").unwrap_err();
        assert!(err.contains("schedules.a b"), "{err}");
    }
}
