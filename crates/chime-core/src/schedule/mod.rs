//! When a schedule fires: its trigger (`cron`, `every` or `at`) within its
//! `start_at`/`end_at` bounds, plus deterministic jitter.

pub mod interval;
pub mod jitter;

use crate::cron::Cron;
use crate::time::Zone;
use interval::Interval;
use jiff::{SignedDuration, Timestamp};

/// What makes a schedule fire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A cron expression evaluated on the wall clock of `zone`.
    Cron { cron: Cron, zone: Zone },
    /// Every `interval` of elapsed time, on the grid `anchor + k × interval`.
    /// With no anchor the grid starts at `start_at`, or else at the Unix
    /// epoch, so every instance computes the same instants.
    Every {
        interval: Interval,
        anchor: Option<Timestamp>,
    },
    /// Once, at this instant.
    At(Timestamp),
}

impl Trigger {
    /// A cron trigger; `@every` expressions become [`Trigger::Every`].
    pub fn cron(cron: Cron, zone: Zone) -> Trigger {
        match cron.interval() {
            Some(interval) => Trigger::Every {
                interval,
                anchor: None,
            },
            None => Trigger::Cron { cron, zone },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimesError {
    #[error("end_at {end} is before start_at {start}")]
    EndBeforeStart { start: Timestamp, end: Timestamp },
}

/// A trigger with its bounds: the complete answer to "when does this fire".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleTimes {
    trigger: Trigger,
    start_at: Option<Timestamp>,
    end_at: Option<Timestamp>,
}

impl ScheduleTimes {
    /// `start_at` and `end_at` are both inclusive: nothing fires before
    /// `start_at` or after `end_at`.
    pub fn new(
        trigger: Trigger,
        start_at: Option<Timestamp>,
        end_at: Option<Timestamp>,
    ) -> Result<ScheduleTimes, TimesError> {
        if let (Some(start), Some(end)) = (start_at, end_at) {
            if end < start {
                return Err(TimesError::EndBeforeStart { start, end });
            }
        }
        let trigger = match trigger {
            Trigger::Every {
                interval,
                anchor: None,
            } => Trigger::Every {
                interval,
                anchor: Some(start_at.unwrap_or(Timestamp::UNIX_EPOCH)),
            },
            other => other,
        };
        Ok(ScheduleTimes {
            trigger,
            start_at,
            end_at,
        })
    }

    pub fn trigger(&self) -> &Trigger {
        &self.trigger
    }

    /// The first fire strictly after `after`, within the bounds.
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        let from = match self.start_at {
            // Fires at or after start_at: search from just before it.
            Some(start) if start > after => {
                start.checked_sub(SignedDuration::from_nanos(1)).ok()?
            }
            _ => after,
        };
        let next = match &self.trigger {
            Trigger::Cron { cron, zone } => cron.next_after(from, zone),
            Trigger::Every { interval, anchor } => {
                every_next(*interval, anchor.unwrap_or(Timestamp::UNIX_EPOCH), from)
            }
            Trigger::At(at) => (*at > from).then_some(*at),
        }?;
        self.end_at.is_none_or(|end| next <= end).then_some(next)
    }

    /// Fires `t` with `after < t <= until`, in order. Misfire handling and
    /// backfill walk past ranges with it.
    pub fn fires_between(&self, after: Timestamp, until: Timestamp) -> FiresBetween<'_> {
        FiresBetween {
            times: self,
            cursor: Some(after),
            until,
        }
    }
}

/// Iterator returned by [`ScheduleTimes::fires_between`].
pub struct FiresBetween<'a> {
    times: &'a ScheduleTimes,
    cursor: Option<Timestamp>,
    until: Timestamp,
}

impl Iterator for FiresBetween<'_> {
    type Item = Timestamp;

    fn next(&mut self) -> Option<Timestamp> {
        let next = self
            .times
            .next_after(self.cursor?)
            .filter(|t| *t <= self.until);
        self.cursor = next;
        next
    }
}

fn every_next(interval: Interval, anchor: Timestamp, after: Timestamp) -> Option<Timestamp> {
    if after < anchor {
        return Some(anchor);
    }
    let step = i128::from(interval.as_secs()) * 1_000_000_000;
    let since = after.as_nanosecond() - anchor.as_nanosecond();
    let k = since.div_euclid(step) + 1;
    let nanos = anchor.as_nanosecond().checked_add(k.checked_mul(step)?)?;
    Timestamp::from_nanosecond(nanos).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn every(text: &str, anchor: Option<&str>) -> Trigger {
        Trigger::Every {
            interval: Interval::parse(text).unwrap(),
            anchor: anchor.map(ts),
        }
    }

    #[test]
    fn every_is_anchored_on_a_grid() {
        let times =
            ScheduleTimes::new(every("90s", Some("2026-01-01T00:00:10Z")), None, None).unwrap();
        assert_eq!(
            times.next_after(ts("2025-12-31T00:00:00Z")),
            Some(ts("2026-01-01T00:00:10Z"))
        );
        assert_eq!(
            times.next_after(ts("2026-01-01T00:00:10Z")),
            Some(ts("2026-01-01T00:01:40Z"))
        );
        assert_eq!(
            times.next_after(ts("2026-01-01T00:01:39.999Z")),
            Some(ts("2026-01-01T00:01:40Z"))
        );
    }

    #[test]
    fn every_without_anchor_starts_at_start_at_or_epoch() {
        let epoch = ScheduleTimes::new(every("1h", None), None, None).unwrap();
        assert_eq!(
            epoch.next_after(ts("2026-01-15T10:17:23Z")),
            Some(ts("2026-01-15T11:00:00Z"))
        );
        let started =
            ScheduleTimes::new(every("1h", None), Some(ts("2026-01-15T10:20:00Z")), None).unwrap();
        assert_eq!(
            started.next_after(ts("2026-01-15T10:17:23Z")),
            Some(ts("2026-01-15T10:20:00Z"))
        );
        assert_eq!(
            started.next_after(ts("2026-01-15T10:20:00Z")),
            Some(ts("2026-01-15T11:20:00Z"))
        );
    }

    #[test]
    fn cron_every_macro_becomes_an_interval() {
        let trigger = Trigger::cron(Cron::parse("@every 1h30m").unwrap(), Zone::utc());
        assert_eq!(trigger, every("1h30m", None));
    }

    #[test]
    fn bounds_are_inclusive() {
        let cron = Trigger::cron(Cron::parse("0 * * * *").unwrap(), Zone::utc());
        let times = ScheduleTimes::new(
            cron,
            Some(ts("2026-01-01T01:00:00Z")),
            Some(ts("2026-01-01T03:00:00Z")),
        )
        .unwrap();
        let all: Vec<_> = times
            .fires_between(ts("2025-12-31T00:00:00Z"), ts("2027-01-01T00:00:00Z"))
            .collect();
        assert_eq!(
            all,
            vec![
                ts("2026-01-01T01:00:00Z"),
                ts("2026-01-01T02:00:00Z"),
                ts("2026-01-01T03:00:00Z")
            ]
        );
    }

    #[test]
    fn end_before_start_is_rejected() {
        let err = ScheduleTimes::new(
            Trigger::At(ts("2026-01-01T00:00:00Z")),
            Some(ts("2026-02-01T00:00:00Z")),
            Some(ts("2026-01-01T00:00:00Z")),
        );
        assert!(matches!(err, Err(TimesError::EndBeforeStart { .. })));
    }

    #[test]
    fn at_fires_once() {
        let times =
            ScheduleTimes::new(Trigger::At(ts("2026-05-01T12:00:00Z")), None, None).unwrap();
        assert_eq!(
            times.next_after(ts("2026-05-01T11:59:59Z")),
            Some(ts("2026-05-01T12:00:00Z"))
        );
        assert_eq!(times.next_after(ts("2026-05-01T12:00:00Z")), None);
    }

    #[test]
    fn fires_between_is_half_open() {
        let cron = Trigger::cron(Cron::parse("*/10 * * * *").unwrap(), Zone::utc());
        let times = ScheduleTimes::new(cron, None, None).unwrap();
        let got: Vec<_> = times
            .fires_between(ts("2026-01-01T00:00:00Z"), ts("2026-01-01T00:30:00Z"))
            .collect();
        assert_eq!(
            got,
            vec![
                ts("2026-01-01T00:10:00Z"),
                ts("2026-01-01T00:20:00Z"),
                ts("2026-01-01T00:30:00Z")
            ]
        );
    }
}
