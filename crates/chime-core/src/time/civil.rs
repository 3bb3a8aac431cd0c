//! Proleptic Gregorian calendar arithmetic on plain integers.
//!
//! The cron search runs on "local seconds": seconds since 1970-01-01T00:00:00
//! on the schedule's wall clock, with no zone attached. Doing this arithmetic
//! by hand (Howard Hinnant's `days_from_civil`) keeps the hot path free of
//! allocation and of a date library's validation on every step.

pub const SECS_PER_DAY: i64 = 86_400;

/// A wall-clock date and time, second resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Civil {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Civil {
    pub fn from_local_secs(secs: i64) -> Civil {
        let days = secs.div_euclid(SECS_PER_DAY);
        let rem = secs.rem_euclid(SECS_PER_DAY) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
        }
    }

    pub fn to_local_secs(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * SECS_PER_DAY
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
    }

    /// 0 = Sunday … 6 = Saturday.
    pub fn weekday(self) -> u32 {
        weekday_from_days(days_from_civil(self.year, self.month, self.day))
    }
}

pub fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a valid civil date.
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

/// 0 = Sunday; 1970-01-01 was a Thursday.
pub fn weekday_from_days(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_day_over_four_centuries() {
        let start = days_from_civil(1900, 1, 1);
        let end = days_from_civil(2300, 12, 31);
        let mut expected = (1900, 1, 1);
        for d in start..=end {
            let got = civil_from_days(d);
            assert_eq!(got, expected, "day {d}");
            assert_eq!(days_from_civil(got.0, got.1, got.2), d);
            let (y, m, day) = expected;
            expected = if day < days_in_month(y, m) {
                (y, m, day + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
    }

    #[test]
    fn known_weekdays() {
        assert_eq!(weekday_from_days(0), 4); // 1970-01-01 Thursday
        assert_eq!(weekday_from_days(days_from_civil(2026, 1, 15)), 4);
        assert_eq!(weekday_from_days(days_from_civil(2000, 2, 29)), 2);
        assert_eq!(weekday_from_days(days_from_civil(2026, 11, 1)), 0);
    }

    #[test]
    fn local_secs_round_trip() {
        for secs in [-1_i64, 0, 59, 86_399, 86_400, 1_768_472_243, -86_401] {
            assert_eq!(Civil::from_local_secs(secs).to_local_secs(), secs);
        }
    }
}
