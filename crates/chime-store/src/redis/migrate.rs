//! Moves records stored by earlier versions of chime into today's layout
//! when a store opens:
//! * schedules, once one string key per schedule, `s:<id>`, listed and
//!   indexed by their 36-character id (about 540 bytes each, where today's
//!   layout, schedule_record.rs, takes about 280);
//! * jobs, once one hash of fields per job, `j:<id>`, now a spec and a
//!   state in hashes every job shares (lua/lib_jobs.lua);
//! * each queue's finished index, once a sorted set `fin:<queue>`, now a
//!   list `fl:<queue>` (lua/lib_jobs.lua's finished_push).
//!
//! Each record moves in one script that checks it is still there (and,
//! for a schedule, still the one read), so instances opening together
//! move each once. Instances of an earlier version must be stopped first:
//! they read only the old layout. Once nothing is left to move, `layout`
//! records it and later starts skip the scans.

use super::{schedule_key, schedule_record, RedisStore};
use crate::{Result, StoreError};
use chime_core::model::ScheduleSpec;
use serde_json::{json, Value};

/// The layouts `layout` has named, oldest first: each once every record
/// of an earlier one had moved.
const LAYOUTS: [&str; 3] = ["schedule-records", "job-records", "finished-lists"];

pub async fn run(store: &RedisStore) -> Result<()> {
    let mut conn = store.conn.clone();
    let layout_key = store.key(&["layout"]);
    let layout: Option<String> = redis::cmd("GET")
        .arg(&layout_key)
        .query_async(&mut conn)
        .await
        .map_err(StoreError::backend)?;
    let reached = layout
        .as_deref()
        .and_then(|l| LAYOUTS.iter().position(|known| *known == l));
    if reached.is_none() {
        schedules(store).await?;
    }
    if reached.is_none_or(|r| r < 1) {
        jobs(store).await?;
    }
    if reached.is_none_or(|r| r < 2) {
        finished(store).await?;
    }
    let _: () = redis::cmd("SET")
        .arg(&layout_key)
        .arg(LAYOUTS[LAYOUTS.len() - 1])
        .query_async(&mut conn)
        .await
        .map_err(StoreError::backend)?;
    Ok(())
}

/// Offers every id stored under `kind:` to `adopt`, a page of keys at a
/// time; returns how many it moved.
async fn move_each<F, Fut>(store: &RedisStore, kind: &str, mut adopt: F) -> Result<usize>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let prefix = store.key(&[kind, ""]);
    let mut conn = store.conn.clone();
    let (mut cursor, mut moved) = (0u64, 0usize);
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .map_err(StoreError::backend)?;
        for id in keys.iter().filter_map(|k| k.strip_prefix(&prefix)) {
            if adopt(id.to_string()).await? {
                moved += 1;
            }
        }
        cursor = next;
        if cursor == 0 {
            return Ok(moved);
        }
    }
}

fn adopted(reply: &Value) -> bool {
    reply.get("adopted").and_then(Value::as_bool) == Some(true)
}

async fn jobs(store: &RedisStore) -> Result<()> {
    let moved = move_each(store, "j", |id| async move {
        let reply = store
            .call(&store.scripts.job_adopt, json!({"id": id}))
            .await?;
        Ok(adopted(&reply))
    })
    .await?;
    if moved > 0 {
        tracing::info!(jobs = moved, "moved jobs into the current Redis layout");
    }
    Ok(())
}

async fn finished(store: &RedisStore) -> Result<()> {
    let mut conn = store.conn.clone();
    let queues: Vec<String> = redis::cmd("SMEMBERS")
        .arg(store.key(&["queues"]))
        .query_async(&mut conn)
        .await
        .map_err(StoreError::backend)?;
    let mut moved = 0;
    for queue in queues {
        // A page per script keeps Redis free for others between pages.
        loop {
            let reply = store
                .call(
                    &store.scripts.finished_adopt,
                    json!({"queue": queue, "limit": 5000}),
                )
                .await?;
            match reply.get("moved").and_then(Value::as_u64) {
                Some(n) if n > 0 => moved += n,
                _ => break,
            }
        }
    }
    if moved > 0 {
        tracing::info!(
            jobs = moved,
            "moved finished-job indexes into the current Redis layout"
        );
    }
    Ok(())
}

async fn schedules(store: &RedisStore) -> Result<()> {
    let prefix = store.key(&["s", ""]);
    let moved = move_each(store, "s", |id| {
        let k = format!("{prefix}{id}");
        async move {
            let mut conn = store.conn.clone();
            let raw: Option<String> = redis::cmd("GET")
                .arg(&k)
                .query_async(&mut conn)
                .await
                .map_err(StoreError::backend)?;
            let Some(raw) = raw else { return Ok(false) };
            let old = Old::parse(&raw).ok_or_else(|| {
                StoreError::corrupt(format!("schedule {id} in the old layout: {raw:.80?}"))
            })?;
            let parts = schedule_record::parts(&old.spec)?;
            let reply = store
                .call(
                    &store.scripts.schedule_adopt,
                    json!({"id": id, "key": schedule_key::of(&id), "raw": raw,
                           "bucket": old.bucket, "paused": old.paused, "version": old.version,
                           "next_fire_at": old.next, "created_at": old.created, "updated_at": old.updated,
                           "ref": parts.reference, "template": parts.template, "name": parts.name,
                           "payload": parts.payload}),
                )
                .await?;
            Ok(adopted(&reply))
        }
    })
    .await?;
    let mut conn = store.conn.clone();
    let _: () = redis::cmd("DEL")
        .arg(store.key(&["sched"]))
        .query_async(&mut conn)
        .await
        .map_err(StoreError::backend)?;
    if moved > 0 {
        tracing::info!(
            schedules = moved,
            "moved schedules into the current Redis layout"
        );
    }
    Ok(())
}

/// A schedule as earlier versions stored it: "bucket,paused,version,
/// next_fire_ms,created_ms,updated_ms|spec", or before that a JSON object
/// of those letters (numbers as numbers or text).
struct Old {
    bucket: u32,
    paused: u8,
    version: u64,
    next: Option<i64>,
    created: i64,
    updated: i64,
    spec: ScheduleSpec,
}

impl Old {
    fn parse(raw: &str) -> Option<Old> {
        let (numbers, spec): (Vec<String>, String) = if raw.starts_with('{') {
            let doc: Value = serde_json::from_str(raw).ok()?;
            let field = |name: &str| match doc.get(name) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            (
                ["b", "p", "v", "n", "c", "u"].map(field).to_vec(),
                doc.get("s")?.as_str()?.to_string(),
            )
        } else {
            let (head, spec) = raw.split_once('|')?;
            (
                head.split(',').map(str::to_string).collect(),
                spec.to_string(),
            )
        };
        let [b, p, v, n, c, u] = &numbers[..] else {
            return None;
        };
        // Stored numbers read back from cjson may carry a fraction (".0").
        let int = |s: &str| s.parse::<f64>().ok().map(|f| f as i64);
        Some(Old {
            bucket: int(b)? as u32,
            paused: u8::from(int(p)? == 1),
            version: int(v)? as u64,
            next: if n.is_empty() { None } else { Some(int(n)?) },
            created: int(c)?,
            updated: int(u)?,
            spec: serde_json::from_str(&spec).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_earlier_layouts_read() {
        let spec = r#"{"name":"a","every":"1m","job":{"kind":"k"}}"#;
        let header = Old::parse(&format!("3,1,2,5000,1000,2000|{spec}")).expect("header layout");
        assert_eq!(
            (
                header.bucket,
                header.paused,
                header.version,
                header.next,
                header.created,
                header.updated
            ),
            (3, 1, 2, Some(5000), 1000, 2000)
        );
        let doc = json!({"b": 3, "s": spec, "p": 0, "v": 1, "c": 1000.0, "u": "2000"}).to_string();
        let json = Old::parse(&doc).expect("JSON layout");
        assert_eq!(
            (
                json.next,
                json.created,
                json.updated,
                json.spec.name.as_str()
            ),
            (None, 1000, 2000, "a")
        );
        for bad in ["", "{", "3,1,2|{}", "x,1,2,3,4,5|{\"name\":\"a\"}"] {
            assert!(Old::parse(bad).is_none(), "{bad}");
        }
    }
}
