//! Bucket leases held by this instance (DESIGN §4). Each renewal beats in
//! the instance registry, works out this instance's share of the buckets
//! among the live ones (`assign`), gives back leases outside it, and takes
//! or renews the rest. Leases are dropped locally as soon as the store says
//! an epoch is stale.
//!
//! A dead instance's entry and leases expire after one TTL; the others'
//! next renewal then takes its buckets over. A bucket being handed over is
//! retried sooner than the usual renewal, so the gap stays short.

use super::assign::share;
use crate::metrics::Metrics;
use chime_store::{BucketsAcquire, InstanceBeat, Store};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// How soon to try again for wanted buckets another instance still holds.
const HANDOVER_RETRY: SignedDuration = SignedDuration::from_millis(250);

pub struct Leases {
    owner: String,
    buckets: u32,
    ttl: SignedDuration,
    renew_every: SignedDuration,
    held: BTreeMap<u32, (u64, Timestamp)>,
    next_renewal: Timestamp,
    metrics: Arc<Metrics>,
}

impl Leases {
    pub fn new(
        owner: String,
        buckets: u32,
        ttl: SignedDuration,
        renew_every: SignedDuration,
        metrics: Arc<Metrics>,
    ) -> Leases {
        Leases {
            owner,
            buckets,
            ttl,
            renew_every,
            held: BTreeMap::new(),
            next_renewal: Timestamp::MIN,
            metrics,
        }
    }

    /// Renews and takes leases if it is time; true when the held set changed.
    pub async fn renew_if_due(
        &mut self,
        store: &dyn Store,
        now: Timestamp,
    ) -> chime_store::Result<bool> {
        if now < self.next_renewal {
            return Ok(self.expire(now));
        }
        let live = store
            .instances_beat(InstanceBeat {
                id: self.owner.clone(),
                ttl: self.ttl,
                now: None,
            })
            .await?;
        let live: Vec<String> = live.into_iter().map(|i| i.id).collect();
        let wanted = share(self.buckets, &live, &self.owner);
        let before: Vec<(u32, u64)> = self.held.iter().map(|(b, (e, _))| (*b, *e)).collect();
        let unwanted: Vec<u32> = self
            .held
            .keys()
            .filter(|b| wanted.binary_search(b).is_err())
            .copied()
            .collect();
        if !unwanted.is_empty() {
            // Forgotten first: nothing is fired under a lease being given back.
            for b in &unwanted {
                self.held.remove(b);
            }
            store.buckets_release(&self.owner, &unwanted).await?;
        }
        let got = store
            .buckets_acquire(BucketsAcquire {
                owner: self.owner.clone(),
                buckets: wanted.clone(),
                ttl: self.ttl,
                now: None,
            })
            .await?;
        self.held = got
            .into_iter()
            .map(|l| (l.bucket, (l.epoch, l.expires_at)))
            .collect();
        let after: Vec<(u32, u64)> = self.held.iter().map(|(b, (e, _))| (*b, *e)).collect();
        self.next_renewal = if self.held.len() < wanted.len() {
            now + HANDOVER_RETRY.min(self.renew_every)
        } else {
            now + self.renew_every
        };
        // A bucket new to this instance at an epoch above 1 had another owner.
        let taken_over = after
            .iter()
            .filter(|(b, e)| *e > 1 && !before.iter().any(|(pb, _)| pb == b))
            .count();
        self.metrics
            .lease_takeovers
            .fetch_add(taken_over as u64, Ordering::Relaxed);
        self.metrics
            .buckets_held
            .store(after.len() as u64, Ordering::Relaxed);
        if before != after {
            tracing::info!(
                held = after.len(),
                wanted = wanted.len(),
                instances = live.len(),
                "bucket leases changed"
            );
        }
        Ok(before != after)
    }

    /// Drops leases that expired locally (renewals failing).
    fn expire(&mut self, now: Timestamp) -> bool {
        let before = self.held.len();
        self.held.retain(|_, (_, expires)| *expires > now);
        before != self.held.len()
    }

    pub fn epoch(&self, bucket: u32) -> Option<u64> {
        self.held.get(&bucket).map(|(epoch, _)| *epoch)
    }

    pub fn forget(&mut self, bucket: u32) {
        self.held.remove(&bucket);
    }

    pub fn held_buckets(&self) -> Vec<u32> {
        self.held.keys().copied().collect()
    }

    pub fn next_renewal(&self) -> Timestamp {
        self.next_renewal
    }

    pub async fn release_all(&mut self, store: &dyn Store) {
        let buckets = self.held_buckets();
        self.held.clear();
        self.metrics.buckets_held.store(0, Ordering::Relaxed);
        if let Err(e) = store.buckets_release(&self.owner, &buckets).await {
            tracing::warn!(error = %e, "could not release bucket leases; they will expire");
        }
        if let Err(e) = store.instances_leave(&self.owner).await {
            tracing::warn!(error = %e, "could not deregister; the entry will expire");
        }
    }
}
