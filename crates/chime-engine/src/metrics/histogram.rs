//! A lock-free histogram with fixed bounds, for the hot paths (every fire,
//! every job start) where a lock per observation would show.

use jiff::SignedDuration;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Scheduled instant → fire or start: most are milliseconds; failover ones seconds.
pub const LATENESS: &[f64] = &[
    0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// One execution of a job.
pub const DURATION: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0,
];
/// One store call.
pub const STORE_CALL: &[f64] = &[
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

pub struct Histogram {
    /// Upper bounds in seconds; one more bucket counts everything above.
    bounds: &'static [f64],
    /// One copy per thread in turn, each on lines of its own: a burst
    /// observes from both worker threads at every job, and one shared copy
    /// was a cache line they passed back and forth.
    shards: Box<[Shard]>,
}

/// Counts per bucket, then the sum of the observations in microseconds.
#[repr(align(128))]
struct Shard(Box<[AtomicU64]>);

const SHARDS: usize = 4;

/// This thread's shard.
fn shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|s| *s)
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            shards: (0..SHARDS)
                .map(|_| Shard((0..bounds.len() + 2).map(|_| AtomicU64::new(0)).collect()))
                .collect(),
        }
    }

    /// Negative durations (a job started early) count as zero.
    pub fn observe(&self, d: SignedDuration) {
        let us = d.as_micros().clamp(0, i128::from(u64::MAX)) as u64;
        let secs = us as f64 / 1e6;
        let i = self
            .bounds
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(self.bounds.len());
        let counts = &self.shards[shard()].0;
        counts[i].fetch_add(1, Ordering::Relaxed);
        counts[self.bounds.len() + 1].fetch_add(us, Ordering::Relaxed);
    }

    pub fn observe_since(&self, started: std::time::Instant) {
        self.observe(SignedDuration::try_from(started.elapsed()).unwrap_or(SignedDuration::MAX));
    }

    pub fn bounds(&self) -> &'static [f64] {
        self.bounds
    }

    /// Slot `i` of every shard, summed: a bucket's count, or the sum (the
    /// slot after the last bucket).
    fn total(&self, i: usize) -> u64 {
        self.shards
            .iter()
            .map(|s| s.0[i].load(Ordering::Relaxed))
            .sum()
    }

    fn buckets(&self) -> Vec<u64> {
        (0..=self.bounds.len()).map(|i| self.total(i)).collect()
    }

    /// Cumulative counts per bound (Prometheus `le`, +Inf last), sum in seconds.
    pub fn snapshot(&self) -> (Vec<u64>, f64) {
        let mut acc = 0;
        let cumulative = self
            .buckets()
            .into_iter()
            .map(|b| {
                acc += b;
                acc
            })
            .collect();
        let sum_us = self.total(self.bounds.len() + 1);
        (cumulative, sum_us as f64 / 1e6)
    }

    pub fn count(&self) -> u64 {
        self.buckets().iter().sum()
    }

    /// Upper bound (seconds) of the bucket holding quantile `q`; `None`
    /// when empty, infinity when it falls above the last bound.
    pub fn quantile_upper(&self, q: f64) -> Option<f64> {
        let (cumulative, _) = self.snapshot();
        let count = *cumulative.last()?;
        if count == 0 {
            return None;
        }
        let rank = ((q * count as f64).ceil() as u64).max(1);
        let i = cumulative.iter().position(|c| *c >= rank)?;
        Some(self.bounds.get(i).copied().unwrap_or(f64::INFINITY))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_quantiles_pick_the_bound() {
        let h = Histogram::new(LATENESS);
        assert_eq!(h.quantile_upper(0.5), None);
        for ms in [0, 3, 3, 4, 40_000] {
            h.observe(SignedDuration::from_millis(ms));
        }
        h.observe(SignedDuration::from_millis(-5));
        let (cumulative, sum) = h.snapshot();
        assert_eq!(cumulative.len(), LATENESS.len() + 1);
        assert_eq!(cumulative[0], 2, "0 ms and the negative one");
        assert_eq!(cumulative[2], 5, "le 5 ms");
        assert_eq!(*cumulative.last().unwrap(), 6);
        assert!((sum - 40.010).abs() < 1e-9, "{sum}");
        assert_eq!(h.quantile_upper(0.5), Some(0.005));
        assert_eq!(h.quantile_upper(1.0), Some(f64::INFINITY));
    }

    #[test]
    fn observations_from_many_threads_all_count() {
        let h = Histogram::new(LATENESS);
        std::thread::scope(|s| {
            for _ in 0..(SHARDS + 2) {
                s.spawn(|| {
                    for _ in 0..100 {
                        h.observe(SignedDuration::from_millis(3));
                    }
                });
            }
        });
        let (cumulative, sum) = h.snapshot();
        let n = 100 * (SHARDS as u64 + 2);
        assert_eq!(h.count(), n);
        assert_eq!(cumulative[1], 0, "none at or under 2 ms");
        assert_eq!(cumulative[2], n);
        assert!((sum - n as f64 * 0.003).abs() < 1e-9, "{sum}");
    }
}
