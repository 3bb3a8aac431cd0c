//! The conformance suite: the definition of a working backend (DESIGN §5).
//!
//! Each case takes a fresh, empty store. Time-sensitive cases pin `now` in
//! their params instead of sleeping, so they run the same on every backend.
//! A backend's test file calls `conformance_suite!(factory)`, which makes
//! one test per case.

#![allow(dead_code)]

pub mod fire;
pub mod jobs;
pub mod maintenance;
pub mod schedules;

use chime_core::model::{new_id, AttemptOutcome, JobTemplate, ScheduleSpec};
use chime_store::{BucketsAcquire, ClaimedJob, Completion, JobCompletion, NewJob, Store};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

/// A store plus whatever must live as long as it (a temp dir, a schema).
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub _guard: Box<dyn std::any::Any + Send + Sync>,
}

#[macro_export]
macro_rules! conformance_suite {
    ($factory:path) => {
        $crate::conformance_suite!(@cases $factory;
            schedules::crud_with_optimistic_versions,
            schedules::list_filters_and_pages,
            schedules::list_pages_across_buckets,
            schedules::due_respects_buckets_pause_and_time,
            fire::inserts_jobs_and_advances_atomically,
            fire::is_idempotent_on_the_fire_key,
            fire::one_batch_naming_a_schedule_twice_fires_it_once,
            fire::edited_schedule_is_not_fired_from_a_stale_copy,
            fire::concurrent_firers_make_one_job_per_fire,
            fire::stale_epoch_is_rejected,
            fire::bucket_leases_have_epochs,
            fire::overlap_skip_and_replace,
            fire::a_finished_job_frees_its_schedule_for_the_next_fire,
            fire::replace_within_one_fire_leaves_one_claimable_job,
            fire::allow_keeps_every_job_of_one_fire,
            fire::records_missed_runs_in_the_ledger,
            jobs::claim_by_priority_then_run_at,
            jobs::claim_ahead_takes_only_jobs_due_soon,
            jobs::claim_early_takes_only_jobs_not_yet_due,
            jobs::claim_order_is_one_for_jobs_due_now_and_later,
            jobs::never_the_same_job_to_two_claimers,
            jobs::expired_lease_is_claimable_again_and_counts,
            jobs::stale_lease_is_rejected,
            jobs::heartbeat_extends_the_lease,
            jobs::a_claims_jobs_keep_their_own_leases,
            jobs::retry_waits_for_backoff,
            jobs::dead_after_max_attempts,
            jobs::cancel_pending_and_running,
            jobs::retry_and_delete_finished_jobs,
            jobs::unique_keys_dedupe_while_active,
            jobs::jobs_read_back_as_written,
            jobs::claim_across_queues_merges_their_orders,
            jobs::attempt_texts_read_back_exactly,
            maintenance::counts_per_queue_and_state,
            maintenance::paused_queues_are_not_claimed,
            maintenance::retention_prunes_finished_jobs_and_ledger,
            maintenance::retention_follows_retried_and_deleted_jobs,
            maintenance::instances_register_expire_and_leave,
            maintenance::tokens_are_found_by_hash_listed_and_deleted
        );
    };
    (@cases $factory:path; $($group:ident :: $case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let t = $factory().await;
                conformance::$group::$case(t.store.clone()).await;
            }
        )*
    };
}

pub const OWNER: &str = "instance-a";

/// A whole-second instant near the store's clock, so pinned times are
/// plausible for backends that compare with their own clock.
pub async fn base(store: &Arc<dyn Store>) -> Timestamp {
    let now = store.now().await.expect("now");
    Timestamp::from_second(now.as_second()).expect("instant")
}

pub fn secs(t: Timestamp, s: i64) -> Timestamp {
    t + SignedDuration::from_secs(s)
}

pub fn spec(name: &str) -> ScheduleSpec {
    serde_json::from_value(serde_json::json!({
        "name": name, "every": "1m", "job": {"queue": "q", "kind": "k"}
    }))
    .expect("spec")
}

pub fn new_job(queue: &str, run_at: Timestamp) -> NewJob {
    NewJob {
        id: new_id(),
        namespace: "default".into(),
        job: JobTemplate::new(queue, "k"),
        run_at,
        schedule_id: None,
        scheduled_for: None,
        unique_key: None,
    }
}

/// `c` succeeded, with no output; `held`: the worker still holds the
/// claimed copy.
pub fn succeeded(c: &ClaimedJob, held: bool) -> JobCompletion {
    JobCompletion {
        job_id: c.job.id.clone(),
        lease_token: c.lease_token.clone(),
        completion: Completion::Succeeded,
        outcome: AttemptOutcome::Succeeded,
        error: None,
        output: None,
        held: held.then(|| Arc::new(c.job.clone())),
    }
}

/// Leases `bucket` for `owner` at `now` for a minute; returns the epoch.
pub async fn lease(store: &Arc<dyn Store>, owner: &str, bucket: u32, now: Timestamp) -> u64 {
    let held = store
        .buckets_acquire(BucketsAcquire {
            owner: owner.into(),
            buckets: vec![bucket],
            ttl: SignedDuration::from_secs(60),
            now: Some(now),
        })
        .await
        .expect("acquire");
    assert_eq!(held.len(), 1, "{owner} could not lease bucket {bucket}");
    held[0].epoch
}
