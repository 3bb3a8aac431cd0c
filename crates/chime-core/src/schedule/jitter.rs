//! Deterministic jitter: spreads fires that share an instant without making
//! fire times depend on which instance computed them.
//!
//! The offset is a pure function of the schedule's key and the nominal fire
//! instant, hashed with FNV-1a and SplitMix64, both fixed algorithms, so it is
//! stable across instances, restarts and chime versions (unlike std's
//! `DefaultHasher`, whose output may change between Rust releases).

use jiff::{SignedDuration, Timestamp};

/// Offset in `[0, max)` for the fire of `schedule_key` at `scheduled_for`.
/// The fire key stays `scheduled_for`; only the job's run time moves.
pub fn offset(schedule_key: &str, scheduled_for: Timestamp, max: SignedDuration) -> SignedDuration {
    let max_ms = max.as_millis();
    if max_ms <= 0 {
        return SignedDuration::ZERO;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in schedule_key.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mixed = splitmix64(h ^ scheduled_for.as_millisecond() as u64);
    let ms = (u128::from(mixed) % max_ms as u128) as i64;
    SignedDuration::from_millis(ms)
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_bounded_and_spread() {
        let at: Timestamp = "2026-01-15T10:00:00Z".parse().unwrap();
        let max = SignedDuration::from_secs(30);
        assert_eq!(offset("sched-1", at, max), offset("sched-1", at, max));
        let offsets: Vec<i64> = (0..1000)
            .map(|i| offset(&format!("s{i}"), at, max).as_millis() as i64)
            .collect();
        assert!(offsets.iter().all(|ms| (0..30_000).contains(ms)));
        // 1000 schedules spread over 30 one-second bins: none empty.
        let mut bins = [0u32; 30];
        for ms in &offsets {
            bins[(*ms / 1000) as usize] += 1;
        }
        assert!(bins.iter().all(|&n| n > 0), "{bins:?}");
        assert_eq!(offset("x", at, SignedDuration::ZERO), SignedDuration::ZERO);
    }

    #[test]
    fn golden_values() {
        let at: Timestamp = "2026-01-15T10:00:00Z".parse().unwrap();
        let got = offset("report.daily", at, SignedDuration::from_secs(60)).as_millis();
        assert_eq!(got, GOLDEN_REPORT_DAILY);
    }

    /// Pinned once computed; a change here changes every user's fire times.
    const GOLDEN_REPORT_DAILY: i128 = 55_666;
}
