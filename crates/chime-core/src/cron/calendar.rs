//! The search for matching wall-clock times, with no zone involved.
//!
//! `next_local` is the hot path: each field is a bit set, so finding the next
//! allowed value is a shift and a `trailing_zeros`, and a miss in one field
//! rolls the next larger field forward and resets the smaller ones.

use super::error::{CronError, CronField};
use super::fields::{next_bit, CalendarSpec};
use crate::time::civil::Civil;

/// The Gregorian calendar repeats every 400 years, weekdays included, so a
/// pattern that matches nothing in 400 years matches nothing ever.
pub const CALENDAR_CYCLE_YEARS: i32 = 400;

/// Largest year searched; beyond it instants leave the supported range.
pub const LAST_YEAR: i32 = 9998;

impl CalendarSpec {
    /// Whether a wall-clock time matches every field.
    pub fn matches(&self, t: Civil) -> bool {
        self.seconds & (1 << t.second) != 0
            && self.minutes & (1 << t.minute) != 0
            && self.hours & (1 << t.hour) != 0
            && self.months & (1 << t.month) != 0
            && self.years.is_none_or(|y| y.contains(t.year))
            && self.days.days_of(t.year, t.month) & (1 << t.day) != 0
    }

    /// The first matching wall-clock time at or after `from` (local seconds).
    pub fn next_local(&self, from: i64) -> Option<i64> {
        let start = Civil::from_local_secs(from);
        let limit = match self.years {
            Some(years) => years.max()?,
            None => start.year.saturating_add(CALENDAR_CYCLE_YEARS),
        }
        .min(LAST_YEAR);
        let Civil {
            mut year,
            mut month,
            mut day,
            mut hour,
            mut minute,
            mut second,
        } = start;
        // Cache of the current month's day mask: months are revisited on every
        // hour and minute roll-over.
        let mut mask_for = (0, 0);
        let mut mask = 0u32;
        loop {
            if year > limit {
                return None;
            }
            if let Some(years) = self.years {
                match years.next_from(year) {
                    Some(y) if y == year => {}
                    Some(y) => {
                        (year, month, day, hour, minute, second) = (y, 1, 1, 0, 0, 0);
                        continue;
                    }
                    None => return None,
                }
            }
            match next_bit(self.months, month) {
                Some(m) if m == month => {}
                Some(m) => (month, day, hour, minute, second) = (m, 1, 0, 0, 0),
                None => {
                    (year, month, day, hour, minute, second) = (year + 1, 1, 1, 0, 0, 0);
                    continue;
                }
            }
            if mask_for != (year, month) {
                mask = self.days.days_of(year, month);
                mask_for = (year, month);
            }
            match next_bit(u64::from(mask), day) {
                Some(d) if d == day => {}
                Some(d) => (day, hour, minute, second) = (d, 0, 0, 0),
                None => {
                    (month, day, hour, minute, second) = (month + 1, 1, 0, 0, 0);
                    continue;
                }
            }
            match next_bit(self.hours, hour) {
                Some(h) if h == hour => {}
                Some(h) => (hour, minute, second) = (h, 0, 0),
                None => {
                    (day, hour, minute, second) = (day + 1, 0, 0, 0);
                    continue;
                }
            }
            match next_bit(self.minutes, minute) {
                Some(m) if m == minute => {}
                Some(m) => (minute, second) = (m, 0),
                None => {
                    (hour, minute, second) = (hour + 1, 0, 0);
                    continue;
                }
            }
            match next_bit(self.seconds, second) {
                Some(s) => second = s,
                None => {
                    (minute, second) = (minute + 1, 0);
                    continue;
                }
            }
            return Some(
                Civil {
                    year,
                    month,
                    day,
                    hour,
                    minute,
                    second,
                }
                .to_local_secs(),
            );
        }
    }
}

/// Rejects expressions that can never fire, such as `0 0 30 2 *`.
pub fn check_can_fire(
    spec: &CalendarSpec,
    dom: &str,
    month: &str,
    dow: &str,
) -> Result<(), CronError> {
    let from_year = spec
        .years
        .and_then(|y| y.next_from(i32::MIN))
        .unwrap_or(2000);
    let from = Civil {
        year: from_year,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
    };
    if spec.next_local(from.to_local_secs()).is_some() {
        return Ok(());
    }
    let field = if spec.days.dom_restricted {
        CronField::DayOfMonth
    } else {
        CronField::DayOfWeek
    };
    let token = if field == CronField::DayOfMonth {
        dom
    } else {
        dow
    };
    let reason = if spec.years.is_some() {
        format!("never occurs in month {month:?} of the years given: the expression can never fire")
    } else {
        format!("never occurs in month {month:?}: the expression can never fire")
    };
    Err(CronError::field(field, token, reason))
}
