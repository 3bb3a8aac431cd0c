//! Bucket leases held by this instance (DESIGN §4): taken and renewed well
//! before they expire, and dropped locally as soon as the store says an
//! epoch is stale. A single instance wants every bucket; rebalancing across
//! instances builds on `wanted`.

use chime_store::{BucketsAcquire, Store};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

pub struct Leases {
    owner: String,
    wanted: Vec<u32>,
    ttl: SignedDuration,
    renew_every: SignedDuration,
    held: BTreeMap<u32, (u64, Timestamp)>,
    next_renewal: Timestamp,
}

impl Leases {
    pub fn new(
        owner: String,
        wanted: Vec<u32>,
        ttl: SignedDuration,
        renew_every: SignedDuration,
    ) -> Leases {
        Leases {
            owner,
            wanted,
            ttl,
            renew_every,
            held: BTreeMap::new(),
            next_renewal: Timestamp::MIN,
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
        let got = store
            .buckets_acquire(BucketsAcquire {
                owner: self.owner.clone(),
                buckets: self.wanted.clone(),
                ttl: self.ttl,
                now: None,
            })
            .await?;
        let before: Vec<(u32, u64)> = self.held.iter().map(|(b, (e, _))| (*b, *e)).collect();
        self.held = got
            .into_iter()
            .map(|l| (l.bucket, (l.epoch, l.expires_at)))
            .collect();
        let after: Vec<(u32, u64)> = self.held.iter().map(|(b, (e, _))| (*b, *e)).collect();
        self.next_renewal = now + self.renew_every;
        if before != after {
            tracing::info!(held = after.len(), "bucket leases changed");
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
        if let Err(e) = store.buckets_release(&self.owner, &buckets).await {
            tracing::warn!(error = %e, "could not release bucket leases; they will expire");
        }
        self.held.clear();
    }
}
