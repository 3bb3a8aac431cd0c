//! Fixed intervals such as `90s` or `1h30m`, used by `@every` and `every`.

use std::fmt;
use std::str::FromStr;

/// A positive interval in whole seconds. Sub-second fire times have no use in
/// a scheduler whose lateness target is milliseconds and whose fire key is an
/// instant; whole seconds keep `every` and cron on one time grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    secs: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("interval {text:?}: {reason}")]
pub struct IntervalError {
    pub text: String,
    pub reason: String,
}

/// Longest interval accepted: about 100 years.
const MAX_SECS: i64 = 100 * 366 * 86_400;

impl Interval {
    pub const MIN: Interval = Interval { secs: 1 };

    /// Parses a sequence of `<number><unit>` with units `d`, `h`, `m`, `s`,
    /// largest first, e.g. `1h30m`, `90s`, `1d12h`.
    pub fn parse(text: &str) -> Result<Interval, IntervalError> {
        let err = |reason: &str| IntervalError {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(err("empty; expected e.g. 90s, 5m or 1h30m"));
        }
        let mut total: i64 = 0;
        let mut last_unit = i64::MAX;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(err("expected a number before each unit, e.g. 1h30m"));
            }
            let number: i64 = rest[..digits]
                .parse()
                .map_err(|_| err("number is too large"))?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let unit = match &rest[..unit_len] {
                "d" => 86_400,
                "h" => 3600,
                "m" => 60,
                "s" => 1,
                "" => return Err(err("a unit is missing: use d, h, m or s")),
                _ => return Err(err("unknown unit: use d, h, m or s")),
            };
            if unit >= last_unit {
                return Err(err("units must go from largest to smallest, each once"));
            }
            last_unit = unit;
            rest = &rest[unit_len..];
            total = number
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .filter(|v| *v <= MAX_SECS)
                .ok_or_else(|| err("longer than 100 years"))?;
        }
        Interval::from_secs(total).ok_or_else(|| err("must be at least 1s"))
    }

    pub fn from_secs(secs: i64) -> Option<Interval> {
        (Interval::MIN.secs..=MAX_SECS)
            .contains(&secs)
            .then_some(Interval { secs })
    }

    pub fn as_secs(self) -> i64 {
        self.secs
    }
}

impl FromStr for Interval {
    type Err = IntervalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Interval::parse(s)
    }
}

impl fmt::Display for Interval {
    /// The canonical form, which parses back to the same interval.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.secs;
        for (unit, name) in [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")] {
            if rest >= unit {
                write!(f, "{}{name}", rest / unit)?;
                rest %= unit;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_canonically() {
        for (text, secs, canonical) in [
            ("90s", 90, "1m30s"),
            ("1h30m", 5400, "1h30m"),
            ("1d12h", 129_600, "1d12h"),
            (" 5m ", 300, "5m"),
        ] {
            let iv = Interval::parse(text).unwrap();
            assert_eq!(iv.as_secs(), secs, "{text}");
            assert_eq!(iv.to_string(), canonical);
            assert_eq!(Interval::parse(canonical).unwrap(), iv);
        }
    }

    #[test]
    fn rejects_bad_intervals_with_reason() {
        for (text, reason) in [
            ("", "empty"),
            ("10", "unit is missing"),
            ("5x", "unknown unit"),
            ("30m1h", "largest to smallest"),
            ("500ms", "unknown unit"),
            ("0s", "at least 1s"),
            ("h", "expected a number"),
            ("99999999999999999999s", "too large"),
            ("40000d", "100 years"),
        ] {
            let e = Interval::parse(text).unwrap_err();
            assert!(e.reason.contains(reason), "{text}: {e}");
        }
    }
}
