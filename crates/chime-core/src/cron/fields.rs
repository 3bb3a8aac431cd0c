//! The parsed form of a cron expression: one bit set per field, plus the
//! day-of-month and day-of-week rules that depend on the month at hand.

use crate::time::civil::{days_in_month, weekday_from_days};

pub const MIN_YEAR: u32 = 1970;
pub const MAX_YEAR: u32 = 2099;

/// Smallest member of `bits` that is `>= from`.
#[inline]
pub fn next_bit(bits: u64, from: u32) -> Option<u32> {
    if from >= 64 {
        return None;
    }
    let rest = bits & (u64::MAX << from);
    (rest != 0).then(|| rest.trailing_zeros())
}

/// Years `MIN_YEAR..=MAX_YEAR` as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct YearSet {
    words: [u64; 3],
}

impl YearSet {
    pub fn insert(&mut self, year: u32) {
        let i = (year - MIN_YEAR) as usize;
        self.words[i / 64] |= 1 << (i % 64);
    }

    pub fn contains(&self, year: i32) -> bool {
        self.next_from(year) == Some(year)
    }

    /// Smallest member `>= year`.
    pub fn next_from(&self, year: i32) -> Option<i32> {
        let i = (i64::from(year) - i64::from(MIN_YEAR)).max(0) as u32;
        let mut word = (i / 64) as usize;
        let mut from = i % 64;
        while word < self.words.len() {
            if let Some(bit) = next_bit(self.words[word], from) {
                return Some((MIN_YEAR + word as u32 * 64 + bit) as i32);
            }
            word += 1;
            from = 0;
        }
        None
    }

    pub fn max(&self) -> Option<i32> {
        (0..self.words.len()).rev().find_map(|w| {
            let bits = self.words[w];
            (bits != 0).then(|| (MIN_YEAR + w as u32 * 64 + 63 - bits.leading_zeros()) as i32)
        })
    }
}

/// Which days of a month fire. Day numbers are bit positions (1..=31).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DayRule {
    /// Day-of-month holds something other than `*` or `?`.
    pub dom_restricted: bool,
    pub dom_days: u32,
    /// `L-n` terms as a set of `n` (`L` alone is `n = 0`).
    pub dom_from_last: u32,
    /// `nW` terms as a set of `n`.
    pub dom_nearest_weekday: u32,
    /// `LW`: the last weekday (Monday to Friday) of the month.
    pub dom_last_weekday: bool,
    /// Day-of-week holds something other than `*` or `?`.
    pub dow_restricted: bool,
    /// Plain weekdays, bit 0 = Sunday.
    pub dow_days: u8,
    /// `w#k` terms: for each weekday, the set of `k` (bits 1..=5).
    pub dow_nth: [u8; 7],
    /// `wL` terms: weekdays whose last occurrence fires.
    pub dow_last: u8,
    /// Plain weekday days of a month, indexed by the weekday of its 1st.
    dow_pattern: [u32; 7],
}

impl DayRule {
    /// Precomputes what depends only on the weekday of the 1st.
    pub fn finish(mut self) -> DayRule {
        for (first, slot) in self.dow_pattern.iter_mut().enumerate() {
            *slot = (1..=31u32)
                .filter(|d| self.dow_days & (1 << ((first as u32 + d - 1) % 7)) != 0)
                .fold(0, |acc, d| acc | 1 << d);
        }
        self
    }

    /// Days of `year`-`month` that fire, as a bit set over 1..=31.
    pub fn days_of(&self, year: i32, month: u32) -> u32 {
        let len = days_in_month(year, month);
        let all = (((1u64 << (len + 1)) - 2) & u64::from(u32::MAX)) as u32;
        let first = weekday_from_days(crate::time::civil::days_from_civil(year, month, 1));
        match (self.dom_restricted, self.dow_restricted) {
            (false, false) => all,
            (true, false) => self.dom_mask(len, first) & all,
            (false, true) => self.dow_mask(len, first) & all,
            // Classic cron: when both are restricted a day fires if either matches.
            (true, true) => (self.dom_mask(len, first) | self.dow_mask(len, first)) & all,
        }
    }

    fn dom_mask(&self, len: u32, first: u32) -> u32 {
        let mut mask = self.dom_days;
        let weekday = |day: u32| (first + day - 1) % 7;
        let mut from_last = self.dom_from_last;
        while from_last != 0 {
            let n = from_last.trailing_zeros();
            from_last &= from_last - 1;
            if n < len {
                mask |= 1 << (len - n);
            }
        }
        let mut nearest = self.dom_nearest_weekday;
        while nearest != 0 {
            let n = nearest.trailing_zeros();
            nearest &= nearest - 1;
            if n > len {
                continue;
            }
            // The nearest Monday-to-Friday, never crossing into another month.
            let day = match weekday(n) {
                6 if n == 1 => 3,
                6 => n - 1,
                0 if n == len => n - 2,
                0 => n + 1,
                _ => n,
            };
            mask |= 1 << day;
        }
        if self.dom_last_weekday {
            let day = match weekday(len) {
                6 => len - 1,
                0 => len - 2,
                _ => len,
            };
            mask |= 1 << day;
        }
        mask
    }

    fn dow_mask(&self, len: u32, first: u32) -> u32 {
        let mut mask = self.dow_pattern[first as usize];
        let last_weekday = (first + len - 1) % 7;
        for w in 0..7u32 {
            let mut ks = u32::from(self.dow_nth[w as usize]);
            let first_w = 1 + (w + 7 - first) % 7;
            while ks != 0 {
                let k = ks.trailing_zeros();
                ks &= ks - 1;
                let day = first_w + 7 * (k - 1);
                if day <= len {
                    mask |= 1 << day;
                }
            }
            if self.dow_last & (1 << w) != 0 {
                mask |= 1 << (len - (last_weekday + 7 - w) % 7);
            }
        }
        mask
    }
}

/// A parsed calendar expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarSpec {
    pub seconds: u64,
    pub minutes: u64,
    pub hours: u64,
    pub months: u64,
    pub years: Option<YearSet>,
    pub days: DayRule,
    /// The seconds, minute or hour field starts with `*`: the schedule follows
    /// elapsed time across DST changes instead of the wall clock (DESIGN §3).
    pub follows_elapsed_time: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(mask: u32) -> Vec<u32> {
        (1..=31).filter(|d| mask & (1 << d) != 0).collect()
    }

    #[test]
    fn year_set_walks_words() {
        let mut s = YearSet::default();
        s.insert(1970);
        s.insert(2040);
        s.insert(2099);
        assert_eq!(s.next_from(1900), Some(1970));
        assert_eq!(s.next_from(1971), Some(2040));
        assert_eq!(s.next_from(2041), Some(2099));
        assert_eq!(s.next_from(2100), None);
        assert_eq!(s.max(), Some(2099));
        assert!(s.contains(2040) && !s.contains(2041));
    }

    #[test]
    fn special_days_in_february_2026() {
        // February 2026 starts on a Sunday and has 28 days.
        let rule = DayRule {
            dom_restricted: true,
            dom_from_last: 1 << 0 | 1 << 3,
            dom_nearest_weekday: 1 << 1 | 1 << 14,
            dom_last_weekday: true,
            ..DayRule::default()
        }
        .finish();
        // L=28 (Sat), L-3=25, 1W: Sun 1st → Mon 2nd, 14W: Sat → Fri 13th, LW = Fri 27th.
        assert_eq!(days(rule.days_of(2026, 2)), vec![2, 13, 25, 27, 28]);
    }

    #[test]
    fn nth_and_last_weekdays() {
        let mut rule = DayRule {
            dow_restricted: true,
            dow_last: 1 << 5,
            ..DayRule::default()
        };
        rule.dow_nth[1] = 1 << 1 | 1 << 5; // first and fifth Monday
        let rule = rule.finish();
        // March 2026: Mondays 2, 9, 16, 23, 30; last Friday 27.
        assert_eq!(days(rule.days_of(2026, 3)), vec![2, 27, 30]);
        // February 2026 has no fifth Monday.
        assert_eq!(days(rule.days_of(2026, 2)), vec![2, 27]);
    }
}
