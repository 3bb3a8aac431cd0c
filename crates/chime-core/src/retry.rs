//! The retry policy: how long to wait before the next attempt.

use crate::model::Backoff;
use jiff::SignedDuration;

/// Delay before attempt `attempt + 1`, after `attempt` (1-based) failed:
/// exponential from `initial_ms`, capped at `max_ms`, with "equal jitter"
/// (half fixed, half random) so that jobs failing together do not retry
/// together. `random` is any uniformly random u64.
pub fn backoff_delay(backoff: &Backoff, attempt: u32, random: u64) -> SignedDuration {
    let exp = attempt.saturating_sub(1).min(40);
    let full = backoff
        .initial_ms
        .saturating_mul(1u64 << exp)
        .min(backoff.max_ms)
        .max(1);
    let half = full / 2;
    let jitter = if full - half == 0 {
        0
    } else {
        random % (full - half + 1)
    };
    SignedDuration::from_millis((half + jitter).min(i64::MAX as u64) as i64)
}

/// The delay a server asked for with `Retry-After`, honoured up to a day.
pub fn retry_after_delay(seconds: u64) -> SignedDuration {
    SignedDuration::from_secs(seconds.min(86_400) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_within_bounds() {
        let b = Backoff {
            initial_ms: 1000,
            max_ms: 60_000,
        };
        for (attempt, full) in [
            (1, 1000),
            (2, 2000),
            (3, 4000),
            (6, 32_000),
            (7, 60_000),
            (50, 60_000),
        ] {
            let lo = backoff_delay(&b, attempt, 0).as_millis();
            let hi = backoff_delay(&b, attempt, u64::MAX).as_millis();
            assert!(
                lo >= i128::from(full / 2) && hi <= i128::from(full),
                "attempt {attempt}: {lo}..{hi}"
            );
        }
        let spread: std::collections::BTreeSet<i128> = (0..100u64)
            .map(|r| backoff_delay(&b, 3, r * 7919).as_millis())
            .collect();
        assert!(spread.len() > 50, "jitter should spread delays");
    }
}
