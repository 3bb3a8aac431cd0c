//! The store's clock, read locally (DESIGN §2.6): lease expiry and
//! due-ness are decided on the store's clock, so an instance whose own
//! clock is off must still fire and start jobs at the store's instants.
//! This clock is the local clock plus the offset to `Store::now()`,
//! measured like NTP (the best of a few round trips) and kept fresh.

use chime_core::time::Clock;
use chime_store::Store;
use jiff::{SignedDuration, Timestamp};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How often the offset is measured again.
pub const RESYNC: Duration = Duration::from_secs(10);
/// Samples per measurement; the one with the shortest round trip wins.
const SAMPLES: usize = 5;
/// A round trip slower than this says too little about the offset.
const MAX_RTT: Duration = Duration::from_millis(500);

#[derive(Debug, Default)]
pub struct StoreClock {
    offset_us: AtomicI64,
}

impl Clock for StoreClock {
    fn now(&self) -> Timestamp {
        let offset = SignedDuration::from_micros(self.offset_us.load(Ordering::Relaxed));
        Timestamp::now()
            .saturating_add(offset)
            .unwrap_or(Timestamp::MAX)
    }
}

impl StoreClock {
    pub fn new() -> StoreClock {
        StoreClock::default()
    }

    pub fn offset(&self) -> SignedDuration {
        SignedDuration::from_micros(self.offset_us.load(Ordering::Relaxed))
    }

    /// Measures the offset to the store's clock; keeps the old one when no
    /// sample was good enough.
    pub async fn sync(&self, store: &dyn Store) -> chime_store::Result<SignedDuration> {
        let mut best: Option<(Duration, SignedDuration)> = None;
        for _ in 0..SAMPLES {
            let sent = Instant::now();
            let local = Timestamp::now();
            let remote = store.now().await?;
            let rtt = sent.elapsed();
            if rtt > MAX_RTT {
                continue;
            }
            let midpoint = local + SignedDuration::try_from(rtt / 2).unwrap_or_default();
            let offset = remote.duration_since(midpoint);
            if best.is_none_or(|(r, _)| rtt < r) {
                best = Some((rtt, offset));
            }
        }
        if let Some((_, offset)) = best {
            let offset_us = i64::try_from(offset.as_micros()).unwrap_or(0);
            self.offset_us.store(offset_us, Ordering::Relaxed);
            if offset.abs() > SignedDuration::from_millis(500) {
                tracing::warn!(
                    offset_ms = offset.as_millis() as i64,
                    "this host's clock differs from the store's; chime follows the store's"
                );
            }
        }
        Ok(self.offset())
    }

    /// Keeps the offset fresh until `cancel`.
    pub async fn run(
        self: std::sync::Arc<Self>,
        store: std::sync::Arc<dyn Store>,
        cancel: CancellationToken,
    ) {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(RESYNC) => {}
            }
            if let Err(e) = self.sync(store.as_ref()).await {
                tracing::warn!(error = %e, "could not read the store's clock; keeping the last offset");
            }
        }
    }
}
