//! The Redis backend: many instances on one Redis.
//!
//! Every operation is one Lua script (lua/, each with its KEYS/ARGV/returns
//! header), so each is atomic. All of a deployment's keys share one hash
//! tag, `{prefix}`, so the scripts run unchanged on Redis Cluster (in one
//! slot). The due index of each bucket is a sorted set; time comes from
//! Redis `TIME` (DESIGN §2.6). Changes are announced on a pub/sub channel,
//! which [`Store::watch`] turns into wake-ups on every instance.
//!
//! Durability (DESIGN §2.3) is Redis's own: see docs/backends.md. At
//! start-up chime warns when the server's persistence cannot keep
//! acknowledged writes.

mod fields;
mod migrate;
mod schedule_key;
mod schedule_record;
mod scripts;
mod wire;

use crate::jobs_common::{after_expired_lease, with_paused};
use crate::params::*;
use crate::rows::{self, ms, ts, Cols};
use crate::{Result, Store, StoreError, Wakers};
use async_trait::async_trait;
use chime_core::model::{Attempt, Backoff, Job, JobState, Occurrence, Schedule, Token};
use fields::{record, records, values, Fields};
use jiff::Timestamp;
use redis::aio::ConnectionManager;
use scripts::{Function, Scripts};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    client: redis::Client,
    /// `{prefix}:`: the hash tag every key starts with.
    prefix: String,
    scripts: Arc<Scripts>,
    /// Job ids a filtered job list examines per script call (jobs_list).
    list_slice: u32,
}

/// A filtered job list examines the job list from the newest id down, this
/// many ids per script call, so a filter few jobs match never holds Redis
/// for long (a few milliseconds a slice) however many jobs it keeps.
const LIST_SLICE: u32 = 500;

/// Parsed `redis://…[?prefix=NAME]`: the prefix (default `chime`) keeps
/// deployments sharing one Redis apart.
fn parse_url(url: &str) -> (String, String) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), "chime".into());
    };
    let mut prefix = "chime".to_string();
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.strip_prefix("prefix=") {
            Some(p) => prefix = p.to_string(),
            None => rest.push(pair),
        }
    }
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, prefix)
}

/// The library names in a FUNCTION LIST reply: each library is a map (or,
/// in RESP2, a flat array of names and values) with `library_name`.
fn library_names(listed: &redis::Value) -> Vec<String> {
    use redis::Value as V;
    let text = |v: &V| match v {
        V::BulkString(b) => String::from_utf8(b.clone()).ok(),
        V::SimpleString(s) => Some(s.clone()),
        _ => None,
    };
    let V::Array(libraries) = listed else {
        return Vec::new();
    };
    libraries
        .iter()
        .filter_map(|library| match library {
            V::Array(flat) => flat
                .chunks(2)
                .find(|pair| text(&pair[0]).as_deref() == Some("library_name"))
                .and_then(|pair| pair.get(1).and_then(text)),
            V::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| text(k).as_deref() == Some("library_name"))
                .and_then(|(_, v)| text(v)),
            _ => None,
        })
        .collect()
}

impl RedisStore {
    /// Connects to `redis://…` (`rediss://` for TLS is not built in) and
    /// checks the server's persistence.
    pub async fn open(url: &str) -> Result<RedisStore> {
        let (url, prefix) = parse_url(url);
        if prefix.is_empty() || prefix.contains(['{', '}']) {
            return Err(StoreError::InvalidState(format!(
                "redis prefix {prefix:?}: must be non-empty, without braces"
            )));
        }
        let client = redis::Client::open(url.as_str()).map_err(StoreError::backend)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(10)))
            .set_response_timeout(Some(Duration::from_secs(30)));
        let conn = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(StoreError::backend)?;
        let store = RedisStore {
            conn,
            client,
            prefix: format!("{{{prefix}}}:"),
            scripts: Arc::new(Scripts::load()),
            list_slice: LIST_SLICE,
        };
        store.check_persistence().await;
        store.prepare_library().await?;
        migrate::run(&store).await?;
        Ok(store)
    }

    /// The same store, listing jobs `n` ids per script call (tests use a
    /// small slice to list across several).
    pub fn with_list_slice(mut self, n: u32) -> RedisStore {
        self.list_slice = n.max(1);
        self
    }

    /// Warns when the server would lose acknowledged writes on a restart.
    async fn check_persistence(&self) {
        let mut conn = self.conn.clone();
        let got: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("appendonly")
            .query_async(&mut conn)
            .await;
        match got.as_deref() {
            Ok([_, on]) if on == "yes" => {
                let fsync: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG")
                    .arg("GET")
                    .arg("appendfsync")
                    .query_async(&mut conn)
                    .await;
                if let Ok([_, policy]) = fsync.as_deref() {
                    if policy != "always" {
                        tracing::warn!(appendfsync = %policy, "redis fsyncs its AOF {policy}: a crash of the Redis host can lose the last second of accepted schedules and jobs (appendfsync always keeps them)");
                    }
                }
            }
            Ok(_) => tracing::warn!("redis runs without AOF (appendonly no): a Redis restart loses accepted schedules and jobs since the last snapshot; set appendonly yes (see docs/backends.md)"),
            Err(e) => tracing::info!(error = %e, "cannot read the redis persistence settings (CONFIG is restricted); make sure AOF is on"),
        }
    }

    /// Loads chime's function library: unless Redis holds it already
    /// (another instance loaded it, or a restart kept it), in which case
    /// Redis would reject it as existing.
    async fn load_library(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        let loaded: redis::RedisResult<String> = redis::cmd("FUNCTION")
            .arg("LOAD")
            .arg(&self.scripts.library)
            .query_async(&mut conn)
            .await;
        match loaded {
            Ok(_) => Ok(()),
            Err(e) if e.to_string().contains("already exists") => Ok(()),
            Err(e) => Err(StoreError::backend(e)),
        }
    }

    /// At open: loads this version's library if Redis does not list it,
    /// and deletes other chime versions' libraries, so they do not pile up
    /// over upgrades (an instance of such a version still running loads
    /// its own again at its next call).
    async fn prepare_library(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        let listed: redis::Value = redis::cmd("FUNCTION")
            .arg("LIST")
            .arg("LIBRARYNAME")
            .arg("chime_*")
            .query_async(&mut conn)
            .await
            .map_err(StoreError::backend)?;
        let mut ours = false;
        for name in library_names(&listed) {
            if name == self.scripts.library_name {
                ours = true;
                continue;
            }
            let deleted: redis::RedisResult<()> = redis::cmd("FUNCTION")
                .arg("DELETE")
                .arg(&name)
                .query_async(&mut conn)
                .await;
            // Another instance starting may have deleted it first.
            if let Err(e) = deleted {
                tracing::debug!(library = %name, error = %e, "could not delete a function library");
            }
        }
        if ours {
            return Ok(());
        }
        self.load_library().await
    }

    /// Runs one script with `args` as its JSON parameters and, for the hot
    /// scripts, `plain` after them (see wire.rs).
    async fn invoke<T: redis::FromRedisValue>(
        &self,
        script: &Function,
        args: Value,
        plain: Vec<String>,
    ) -> Result<T> {
        let mut cmd = redis::cmd("FCALL");
        cmd.arg(&script.name)
            .arg(1)
            .arg(&self.prefix)
            .arg(args.to_string())
            .arg(plain);
        let mut conn = self.conn.clone();
        match cmd.query_async(&mut conn).await {
            // Redis lost the library: restarted without persistence,
            // flushed, or another version's instance deleted it.
            Err(e) if e.to_string().contains("Function not found") => {
                self.load_library().await?;
                cmd.query_async(&mut conn)
                    .await
                    .map_err(StoreError::backend)
            }
            done => done.map_err(StoreError::backend),
        }
    }

    /// Runs one script that replies with a JSON document.
    async fn call(&self, script: &Function, args: Value) -> Result<Value> {
        let raw: String = self.invoke(script, args, Vec::new()).await?;
        serde_json::from_str(&raw).map_err(|e| StoreError::corrupt(format!("script reply: {e}")))
    }

    fn key(&self, parts: &[&str]) -> String {
        format!("{}{}", self.prefix, parts.join(":"))
    }
}

/// The job fields that hold its latest attempt (lib_jobs.lua).
const LATEST_ATTEMPT: [&str; 8] = [
    "state",
    "attempt",
    "worker",
    "started_at",
    "finished_at",
    "outcome",
    "attempt_error",
    "output",
];

/// The latest attempt a job holds, as its attempt number and the
/// attempts hash's JSON entry: open while the job runs, ended once it
/// finished; none while it waits (its attempts are all in the attempts
/// hash) or when it was claimed before jobs carried their attempt.
fn latest_attempt(f: &[Option<String>]) -> Result<Option<(String, String)>> {
    let [Some(state), Some(n), Some(worker), Some(started_at), finished_at, outcome, error, output] =
        f
    else {
        return Ok(None);
    };
    let time = |t: &str| -> Result<i64> {
        t.parse()
            .map_err(|_| StoreError::corrupt(format!("attempt time: {t:?}")))
    };
    let started_at = time(started_at)?;
    let doc = match (state.as_str(), outcome, finished_at) {
        ("running", _, _) => json!({"worker": worker, "started_at": started_at}),
        (_, Some(outcome), Some(finished_at)) => json!({
            "worker": worker, "started_at": started_at, "finished_at": time(finished_at)?,
            "outcome": outcome, "error": error, "output": output,
        }),
        _ => return Ok(None),
    };
    Ok(Some((n.clone(), doc.to_string())))
}

/// A job from its fields: absent ones at JOB_DEFAULTS, and the lease only
/// while it runs.
fn job(f: Fields) -> Result<Job> {
    let mut job = rows::job(&f.job())?;
    if job.state != JobState::Running {
        job.lease_expires_at = None;
    }
    Ok(job)
}

fn ms_opt(t: Option<Timestamp>) -> Value {
    t.map(|t| json!(ms(t))).unwrap_or(Value::Null)
}

fn lease(f: &Fields) -> Result<BucketLease> {
    Ok(BucketLease {
        bucket: f.i64("bucket")? as u32,
        owner: f.opt_string("owner")?.unwrap_or_default(),
        epoch: f.i64("epoch")? as u64,
        expires_at: ts(f.i64("expires_at")?)?,
    })
}

fn state_error(reply: &Value, id: &str, op: &str) -> Option<StoreError> {
    match reply.get("error").and_then(Value::as_str) {
        Some("not_found") => Some(StoreError::NotFound(format!("job {id}"))),
        Some("state") => Some(StoreError::InvalidState(format!(
            "cannot {op} a job that is {}",
            reply.get("state").and_then(Value::as_str).unwrap_or("?")
        ))),
        Some(other) => Some(StoreError::InvalidState(other.to_string())),
        None => None,
    }
}

/// Forwards the change channel to the wakers; resubscribes (and wakes
/// everyone, since messages may have been missed) when it drops.
async fn listen(client: redis::Client, channel: String, wakers: Wakers) {
    use futures_util::StreamExt;
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if let Err(e) = pubsub.subscribe(&channel).await {
                    tracing::warn!(error = %e, "redis SUBSCRIBE failed; retrying");
                } else {
                    wakers.wake_all();
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        // "schedule:<id>" names a changed schedule; older
                        // instances send "schedules" for any.
                        let payload = msg.get_payload::<String>().unwrap_or_default();
                        match (payload.as_str(), payload.strip_prefix("schedule:")) {
                            (_, Some(id)) => wakers.schedule_message(id),
                            ("schedules", None) => wakers.schedule_message(""),
                            _ => wakers.jobs.notify_waiters(),
                        }
                    }
                    tracing::warn!("redis pub/sub connection lost; resubscribing");
                }
            }
            Err(e) => tracing::warn!(error = %e, "redis pub/sub connection failed; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn now(&self) -> Result<Timestamp> {
        let mut conn = self.conn.clone();
        let (secs, micros): (i64, i64) = redis::cmd("TIME")
            .query_async(&mut conn)
            .await
            .map_err(StoreError::backend)?;
        ts(secs * 1000 + micros / 1000)
    }

    async fn watch(&self, wakers: Wakers) -> Result<()> {
        tokio::spawn(listen(self.client.clone(), self.key(&["changed"]), wakers));
        Ok(())
    }

    async fn schedules_create(&self, p: ScheduleCreate) -> Result<Schedule> {
        let parts = schedule_record::parts(&p.spec)?;
        let reply = self
            .call(
                &self.scripts.schedule_create,
                json!({"id": p.id, "key": schedule_key::of(&p.id), "bucket": p.bucket,
                       "ref": parts.reference, "template": parts.template, "name": parts.name,
                       "payload": parts.payload, "paused": p.spec.paused,
                       "next_fire_at": ms_opt(p.next_fire_at), "now": ms_opt(p.now)}),
            )
            .await?;
        schedule_record::from_doc(&reply)
    }

    async fn schedules_get(&self, id: &str) -> Result<Option<Schedule>> {
        let reply = self
            .call(
                &self.scripts.schedule_get,
                json!({"key": schedule_key::of(id)}),
            )
            .await?;
        match reply.get("schedule") {
            Some(doc @ Value::Object(_)) => schedule_record::from_doc(doc).map(Some),
            _ => Ok(None),
        }
    }

    async fn schedules_list(&self, p: ScheduleList) -> Result<Vec<Schedule>> {
        let after_key = p.after_id.as_deref().map(schedule_key::of);
        let reply = self
            .call(
                &self.scripts.schedules_list,
                json!({"namespace": p.namespace, "search": p.search, "after_key": after_key, "limit": p.limit}),
            )
            .await?;
        match reply.get("items") {
            Some(Value::Array(items)) => items.iter().map(schedule_record::from_doc).collect(),
            _ => Ok(Vec::new()),
        }
    }

    async fn schedules_update(&self, p: ScheduleUpdate) -> Result<Schedule> {
        let occurrences: Vec<Value> = p
            .occurrences
            .iter()
            .map(|o| crate::firing::occurrence_row(&p.id, o))
            .collect();
        let parts = schedule_record::parts(&p.spec)?;
        let reply = self
            .call(
                &self.scripts.schedule_update,
                json!({"id": p.id, "key": schedule_key::of(&p.id), "expected_version": p.expected_version,
                       "ref": parts.reference, "template": parts.template, "name": parts.name,
                       "payload": parts.payload, "paused": p.spec.paused,
                       "next_fire_at": ms_opt(p.next_fire_at),
                       "occurrences": occurrences, "now": ms_opt(p.now)}),
            )
            .await?;
        match reply.get("error").and_then(Value::as_str) {
            Some("conflict") => Err(StoreError::Conflict {
                expected: p.expected_version.unwrap_or(0),
                found: reply.get("found").and_then(Value::as_u64).unwrap_or(0),
            }),
            Some(_) => Err(StoreError::NotFound(format!("schedule {}", p.id))),
            None => match reply.get("schedule") {
                Some(doc) => schedule_record::from_doc(doc),
                None => Err(StoreError::corrupt(
                    "schedule update: no schedule in the reply",
                )),
            },
        }
    }

    async fn schedules_delete(&self, id: &str) -> Result<bool> {
        let reply = self
            .call(
                &self.scripts.schedule_delete,
                json!({"id": id, "key": schedule_key::of(id)}),
            )
            .await?;
        Ok(reply
            .get("deleted")
            .and_then(Value::as_bool)
            .unwrap_or(false))
    }

    async fn schedules_due(&self, p: SchedulesDue) -> Result<Vec<Schedule>> {
        let reply = self
            .invoke(
                &self.scripts.schedules_due,
                json!({"buckets": p.buckets, "until": ms(p.until), "limit": p.limit}),
                Vec::new(),
            )
            .await?;
        wire::due_schedules(reply)
    }

    async fn fire(&self, p: FireBatch) -> Result<Vec<FireResult>> {
        let mut plain = Vec::new();
        for f in &p.fires {
            wire::fire_args(f, &mut plain)?;
        }
        let reply = self
            .invoke(
                &self.scripts.fire,
                json!({"owner": p.owner, "now": ms_opt(p.now)}),
                plain,
            )
            .await?;
        wire::fire_results(reply)
    }

    async fn buckets_acquire(&self, p: BucketsAcquire) -> Result<Vec<BucketLease>> {
        let reply = self
            .call(
                &self.scripts.buckets_acquire,
                json!({"owner": p.owner, "buckets": p.buckets, "ttl_ms": p.ttl.as_millis() as i64, "now": ms_opt(p.now)}),
            )
            .await?;
        records(&reply, "items")?.iter().map(lease).collect()
    }

    async fn buckets_release(&self, owner: &str, buckets: &[u32]) -> Result<()> {
        self.call(
            &self.scripts.buckets_release,
            json!({"owner": owner, "buckets": buckets}),
        )
        .await
        .map(drop)
    }

    async fn buckets_list(&self) -> Result<Vec<BucketLease>> {
        let reply = self.call(&self.scripts.buckets_list, json!({})).await?;
        records(&reply, "items")?.iter().map(lease).collect()
    }

    async fn instances_beat(&self, p: InstanceBeat) -> Result<Vec<Instance>> {
        let reply = self
            .call(
                &self.scripts.instances_beat,
                json!({"id": p.id, "ttl_ms": p.ttl.as_millis() as i64, "now": ms_opt(p.now)}),
            )
            .await?;
        records(&reply, "items")?
            .iter()
            .map(rows::instance)
            .collect()
    }

    async fn instances_leave(&self, id: &str) -> Result<()> {
        self.call(&self.scripts.instances_leave, json!({"id": id}))
            .await
            .map(drop)
    }

    async fn tokens_create(&self, p: TokenCreate) -> Result<Token> {
        let reply = self
            .call(
                &self.scripts.tokens_create,
                json!({"id": p.id, "name": p.name, "role": p.role.as_str(),
                       "namespace": p.namespace, "hash": p.hash, "now": ms_opt(p.now)}),
            )
            .await?;
        rows::token(&Fields::owned(
            reply.as_object().cloned().unwrap_or_default(),
        ))
    }

    async fn tokens_find(&self, hash: &str) -> Result<Option<Token>> {
        let reply = self
            .call(&self.scripts.tokens_find, json!({"hash": hash}))
            .await?;
        match reply.get("item") {
            Some(Value::Object(_)) => rows::token(&record(&reply, "item")?).map(Some),
            _ => Ok(None),
        }
    }

    async fn tokens_list(&self) -> Result<Vec<Token>> {
        let reply = self.call(&self.scripts.tokens_list, json!({})).await?;
        records(&reply, "items")?.iter().map(rows::token).collect()
    }

    async fn tokens_delete(&self, id: &str) -> Result<bool> {
        let reply = self
            .call(&self.scripts.tokens_delete, json!({"id": id}))
            .await?;
        Ok(reply.get("deleted") == Some(&Value::Bool(true)))
    }

    async fn instances_list(&self) -> Result<Vec<Instance>> {
        let reply = self.call(&self.scripts.instances_list, json!({})).await?;
        records(&reply, "items")?
            .iter()
            .map(rows::instance)
            .collect()
    }

    async fn jobs_enqueue(&self, jobs: Vec<NewJob>) -> Result<Vec<Enqueued>> {
        let mut plain = Vec::new();
        for job in &jobs {
            wire::job_args(job, &mut plain)?;
        }
        let reply = self
            .invoke(&self.scripts.jobs_enqueue, json!({}), plain)
            .await?;
        wire::enqueued(reply)
    }

    async fn jobs_claim(&self, p: JobsClaim) -> Result<Vec<ClaimedJob>> {
        let token = uuid::Uuid::now_v7().to_string();
        let reply = self
            .invoke(
                &self.scripts.jobs_claim,
                json!({"queues": p.queues, "due_by": ms_opt(p.due_by), "due_after": ms_opt(p.due_after), "limit": p.limit,
                       "worker": p.worker, "token": token, "lease_ms": p.lease.as_millis() as i64,
                       "now": ms_opt(p.now)}),
                Vec::new(),
            )
            .await?;
        wire::claimed(reply, &p.worker, &token)
    }

    async fn jobs_heartbeat(&self, p: JobsHeartbeat) -> Result<Timestamp> {
        let reply = self
            .call(
                &self.scripts.job_heartbeat,
                json!({"id": p.job_id, "token": p.lease_token, "extend_ms": p.extend.as_millis() as i64, "now": ms_opt(p.now)}),
            )
            .await?;
        match reply.get("expires_at").and_then(Value::as_i64) {
            Some(at) => ts(at),
            None => Err(StoreError::LeaseLost),
        }
    }

    async fn jobs_complete(&self, p: JobsComplete) -> Result<Vec<Result<()>>> {
        let queue = wire::completions_queue(&p.completions);
        let mut plain = Vec::with_capacity(p.completions.len() * 5);
        for c in &p.completions {
            wire::completion_args(c, queue, &mut plain);
        }
        let reply = self
            .invoke(
                &self.scripts.jobs_complete,
                json!({"now": ms_opt(p.now), "queue": queue}),
                plain,
            )
            .await?;
        Ok(wire::applied(reply, p.completions.len()))
    }

    async fn jobs_rescue(&self, p: JobsRescue) -> Result<Vec<String>> {
        let reply = self
            .call(
                &self.scripts.jobs_expired,
                json!({"limit": p.limit, "now": ms_opt(p.now)}),
            )
            .await?;
        let now = ts(reply
            .get("now")
            .and_then(Value::as_i64)
            .ok_or_else(|| StoreError::corrupt("jobs_expired: no now"))?)?;
        let rescues = records(&reply, "items")?
            .into_iter()
            .map(|f| {
                let f = f.job();
                let backoff = Backoff {
                    initial_ms: f.i64("backoff_initial_ms")? as u64,
                    max_ms: f.i64("backoff_max_ms")? as u64,
                };
                let (state, run_at, _) =
                    after_expired_lease(f.i64("attempt")?, f.i64("max_attempts")?, &backoff, now);
                Ok(json!({"id": f.string("id")?, "state": state.as_str(), "run_at": ms(run_at)}))
            })
            .collect::<Result<Vec<_>>>()?;
        if rescues.is_empty() {
            return Ok(Vec::new());
        }
        let reply = self
            .call(
                &self.scripts.jobs_rescue,
                json!({"rescues": rescues, "now": ms(now)}),
            )
            .await?;
        Ok(values(&reply, "ids")
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect())
    }

    async fn jobs_cancel(&self, id: &str) -> Result<Job> {
        let reply = self
            .call(&self.scripts.job_cancel, json!({"id": id}))
            .await?;
        match state_error(&reply, id, "cancel") {
            Some(e) => Err(e),
            None => job(record(&reply, "job")?),
        }
    }

    async fn jobs_retry(&self, id: &str) -> Result<Job> {
        let reply = self
            .call(&self.scripts.job_retry, json!({"id": id}))
            .await?;
        match state_error(&reply, id, "retry") {
            Some(e) => Err(e),
            None => job(record(&reply, "job")?),
        }
    }

    async fn jobs_delete(&self, id: &str) -> Result<bool> {
        let reply = self
            .call(&self.scripts.job_delete, json!({"id": id}))
            .await?;
        if reply.get("error").is_some() {
            return Err(StoreError::InvalidState(
                "job is running: cancel it before deleting it".into(),
            ));
        }
        Ok(reply
            .get("deleted")
            .and_then(Value::as_bool)
            .unwrap_or(false))
    }

    async fn jobs_get(&self, id: &str) -> Result<Option<Job>> {
        let reply = self
            .call(&self.scripts.job_get, json!({"id": id, "attempts": false}))
            .await?;
        match reply.get("job") {
            Some(Value::Object(_)) => job(record(&reply, "job")?).map(Some),
            _ => Ok(None),
        }
    }

    async fn jobs_list(&self, p: JobsList) -> Result<Vec<Job>> {
        let limit = p.limit as usize;
        let mut jobs = Vec::new();
        let mut before = p.before_id;
        // One slice per call: other clients' commands run between them.
        while jobs.len() < limit {
            let reply = self
                .call(
                    &self.scripts.jobs_list,
                    json!({"namespace": p.namespace, "queue": p.queue, "state": p.state.map(|s| s.as_str()),
                           "schedule_id": p.schedule_id, "before_id": before, "limit": limit - jobs.len(),
                           "slice": self.list_slice}),
                )
                .await?;
            for f in records(&reply, "items")? {
                jobs.push(job(f)?);
            }
            match reply.get("resume").and_then(Value::as_str) {
                Some(id) => before = Some(id.to_string()),
                None => break,
            }
        }
        Ok(jobs)
    }

    async fn attempts_list(&self, job_id: &str) -> Result<Vec<Attempt>> {
        let reply = self
            .call(
                &self.scripts.job_get,
                json!({"id": job_id, "attempts": true}),
            )
            .await?;
        let mut map: std::collections::BTreeMap<String, String> = match reply.get("attempts") {
            Some(Value::Object(m)) => m
                .iter()
                .map(|(n, doc)| (n.clone(), doc.as_str().unwrap_or_default().to_string()))
                .collect(),
            _ => Default::default(),
        };
        // The attempts the job outlived, and its latest one, which the job
        // carries itself (lib_jobs.lua): open while it runs, ended once it
        // finished.
        if let Some(Value::Object(j)) = reply.get("job") {
            let latest =
                LATEST_ATTEMPT.map(|f| j.get(f).and_then(Value::as_str).map(str::to_string));
            if let Some((n, doc)) = latest_attempt(&latest)? {
                map.entry(n).or_insert(doc);
            }
        }
        let mut attempts = map
            .into_iter()
            .map(|(n, doc)| {
                let mut f: serde_json::Map<String, Value> = serde_json::from_str(&doc)
                    .map_err(|e| StoreError::corrupt(format!("attempt: {e}")))?;
                f.insert("job_id".into(), json!(job_id));
                f.insert("attempt".into(), json!(n));
                rows::attempt(&Fields::owned(f))
            })
            .collect::<Result<Vec<_>>>()?;
        attempts.sort_by_key(|a| a.attempt);
        Ok(attempts)
    }

    async fn occurrences_list(&self, p: OccurrencesList) -> Result<Vec<Occurrence>> {
        let reply = self
            .call(
                &self.scripts.occurrences_list,
                json!({"schedule_id": p.schedule_id, "before": ms_opt(p.before), "limit": p.limit}),
            )
            .await?;
        records(&reply, "items")?
            .iter()
            .map(rows::occurrence)
            .collect()
    }

    async fn queues_stats(&self) -> Result<Vec<QueueStats>> {
        let reply = self.call(&self.scripts.queue_stats, json!({})).await?;
        let items = records(&reply, "items")?;
        let stats = items
            .iter()
            .map(|f| {
                let n = |c: &str| f.i64(c).map(|v| v.max(0) as u64);
                Ok(QueueStats {
                    queue: f.string("queue")?,
                    paused: false,
                    available: n("available")?,
                    scheduled: n("scheduled")?,
                    running: n("running")?,
                    succeeded: n("succeeded")?,
                    dead: n("dead")?,
                    cancelled: n("cancelled")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let paused = items
            .iter()
            .filter(|f| f.0.get("paused").and_then(Value::as_bool) == Some(true))
            .map(|f| f.string("queue"))
            .collect::<Result<Vec<_>>>()?;
        Ok(with_paused(stats, paused))
    }

    async fn queues_set_paused(&self, queue: &str, paused: bool) -> Result<()> {
        self.call(
            &self.scripts.queue_set_paused,
            json!({"queue": queue, "paused": paused}),
        )
        .await
        .map(drop)
    }

    async fn retention_prune(&self, p: RetentionPrune) -> Result<PruneCounts> {
        let reply = self
            .call(
                &self.scripts.prune,
                json!({"jobs_before": ms(p.jobs_finished_before),
                       "queues_before": p.queues_finished_before.iter()
                           .map(|(q, t)| (q.clone(), json!(ms(*t))))
                           .collect::<serde_json::Map<_, _>>(),
                       "occurrences_before": ms(p.occurrences_before), "limit": p.limit}),
            )
            .await?;
        Ok(PruneCounts {
            jobs: reply.get("jobs").and_then(Value::as_u64).unwrap_or(0),
            occurrences: reply
                .get("occurrences")
                .and_then(Value::as_u64)
                .unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parse_url;

    #[test]
    fn prefix_comes_out_of_the_url() {
        assert_eq!(
            parse_url("redis://127.0.0.1:6379/0"),
            ("redis://127.0.0.1:6379/0".into(), "chime".into())
        );
        assert_eq!(
            parse_url("redis://h/0?prefix=prod&protocol=resp3"),
            ("redis://h/0?protocol=resp3".into(), "prod".into())
        );
    }
}
