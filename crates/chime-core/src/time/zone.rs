//! IANA time zones as chime sees them: a name plus a list of offset segments.
//!
//! Cron iteration walks a zone one *segment* at a time: a half-open span of
//! real time `[start, end)` over which the UTC offset is constant. Inside a
//! segment local time and real time map one to one, so DST only ever shows up
//! at segment edges, which is where the gap and overlap rules are applied.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::fmt;

/// Error for a zone name that the tz database does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {name:?}: expected an IANA name such as \"Europe/London\" or \"UTC\"")]
pub struct UnknownZone {
    pub name: String,
}

/// A named time zone.
#[derive(Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

/// A span of real time with one UTC offset. Instants are Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// First instant of the span (`i64::MIN` when unbounded).
    pub start: i64,
    /// First instant after the span (`i64::MAX` when unbounded).
    pub end: i64,
    /// Offset from UTC in seconds inside the span.
    pub offset: i64,
    /// Offset just before `start`, when the span starts at a transition.
    pub prev_offset: Option<i64>,
}

impl Segment {
    pub fn contains(&self, t: i64) -> bool {
        self.start <= t && t < self.end
    }
}

impl Zone {
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".to_string(),
            tz: TimeZone::UTC,
        }
    }

    /// Looks a zone up by IANA name (case as in the tz database, e.g.
    /// `America/New_York`; `UTC` and `Etc/UTC` also work).
    pub fn get(name: &str) -> Result<Zone, UnknownZone> {
        let trimmed = name.trim();
        if trimmed.is_empty() {
            return Err(UnknownZone {
                name: name.to_string(),
            });
        }
        match TimeZone::get(trimmed) {
            Ok(tz) => Ok(Zone {
                name: tz.iana_name().unwrap_or(trimmed).to_string(),
                tz,
            }),
            Err(_) => Err(UnknownZone {
                name: name.to_string(),
            }),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// Offset from UTC in seconds at instant `t`.
    pub fn offset_at(&self, t: i64) -> i64 {
        match Timestamp::from_second(t) {
            Ok(ts) => i64::from(self.tz.to_offset(ts).seconds()),
            Err(_) => 0,
        }
    }

    /// The constant-offset span containing instant `t`.
    pub fn segment_at(&self, t: i64) -> Segment {
        let Ok(ts) = Timestamp::from_second(t) else {
            return Segment {
                start: i64::MIN,
                end: i64::MAX,
                offset: 0,
                prev_offset: None,
            };
        };
        let offset = i64::from(self.tz.to_offset(ts).seconds());
        let end = self
            .tz
            .following(ts)
            .map(|tr| tr.timestamp().as_second())
            .find(|&s| s > t)
            .unwrap_or(i64::MAX);
        let start = match Timestamp::from_second(t.saturating_add(1)) {
            Ok(next) => self
                .tz
                .preceding(next)
                .map(|tr| tr.timestamp().as_second())
                .find(|&s| s <= t),
            Err(_) => None,
        };
        match start {
            Some(start) => Segment {
                start,
                end,
                offset,
                prev_offset: Some(self.offset_at(start.saturating_sub(1))),
            },
            None => Segment {
                start: i64::MIN,
                end,
                offset,
                prev_offset: None,
            },
        }
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name)
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_second()
    }

    #[test]
    fn new_york_spring_forward_segment() {
        let ny = Zone::get("America/New_York").unwrap();
        let seg = ny.segment_at(secs("2026-03-08T06:59:59Z"));
        assert_eq!(seg.end, secs("2026-03-08T07:00:00Z"));
        assert_eq!(seg.offset, -5 * 3600);
        let after = ny.segment_at(seg.end);
        assert_eq!(after.start, seg.end);
        assert_eq!(after.offset, -4 * 3600);
        assert_eq!(after.prev_offset, Some(-5 * 3600));
        assert_eq!(after.end, secs("2026-11-01T06:00:00Z"));
    }

    #[test]
    fn utc_has_one_endless_segment() {
        let seg = Zone::utc().segment_at(1_700_000_000);
        assert_eq!((seg.start, seg.end, seg.offset), (i64::MIN, i64::MAX, 0));
    }

    #[test]
    fn unknown_zone_is_an_error() {
        assert!(Zone::get("Mars/Olympus_Mons").is_err());
        assert!(Zone::get("").is_err());
        assert_eq!(Zone::get("Asia/Kolkata").unwrap().name(), "Asia/Kolkata");
    }
}
