//! A lock-free histogram with fixed bounds, for the hot paths (every fire,
//! every job start) where a lock per observation would show.

use jiff::SignedDuration;
use std::sync::atomic::{AtomicU64, Ordering};

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
    buckets: Box<[AtomicU64]>,
    sum_us: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_us: AtomicU64::new(0),
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
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    pub fn observe_since(&self, started: std::time::Instant) {
        self.observe(SignedDuration::try_from(started.elapsed()).unwrap_or(SignedDuration::MAX));
    }

    pub fn bounds(&self) -> &'static [f64] {
        self.bounds
    }

    /// Cumulative counts per bound (Prometheus `le`, +Inf last), sum in seconds.
    pub fn snapshot(&self) -> (Vec<u64>, f64) {
        let mut acc = 0;
        let cumulative = self
            .buckets
            .iter()
            .map(|b| {
                acc += b.load(Ordering::Relaxed);
                acc
            })
            .collect();
        (cumulative, self.sum_us.load(Ordering::Relaxed) as f64 / 1e6)
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
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
}
