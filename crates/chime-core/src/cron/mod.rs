//! Cron expressions: parsing, matching and zone-aware fire times.
//!
//! Syntax and semantics follow DESIGN §3; `docs/cron.md` is the user-facing
//! reference. The public type is [`Cron`]; everything else is the machinery.

mod calendar;
mod describe;
mod error;
mod fields;
mod parse;
mod zoned;

pub use error::{CronError, CronField};
pub use zoned::DstNote;

use crate::schedule::interval::Interval;
use crate::time::civil::Civil;
use crate::time::{Segment, Zone};
use fields::CalendarSpec;
use jiff::Timestamp;
use std::fmt;
use std::str::FromStr;

/// A parsed cron expression.
#[derive(Clone, PartialEq, Eq)]
pub struct Cron {
    source: String,
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    Calendar(CalendarSpec),
    /// `@every <interval>`: fixed steps from an anchor, not a wall-clock pattern.
    Every(Interval),
}

impl Cron {
    pub fn parse(text: &str) -> Result<Cron, CronError> {
        Ok(Cron {
            source: text.trim().to_string(),
            expr: parse::parse(text)?,
        })
    }

    /// The expression as written (trimmed).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The interval of an `@every` expression.
    pub fn interval(&self) -> Option<Interval> {
        match &self.expr {
            Expr::Every(iv) => Some(*iv),
            Expr::Calendar(_) => None,
        }
    }

    /// True when the seconds, minute or hour field starts with `*`, so the
    /// schedule follows elapsed time across DST changes (and for `@every`).
    pub fn follows_elapsed_time(&self) -> bool {
        match &self.expr {
            Expr::Calendar(spec) => spec.follows_elapsed_time,
            Expr::Every(_) => true,
        }
    }

    /// Whether a wall-clock time matches the pattern (always false for `@every`).
    pub fn matches_local(&self, t: jiff::civil::DateTime) -> bool {
        match &self.expr {
            Expr::Calendar(spec) => t.subsec_nanosecond() == 0 && spec.matches(civil_of(t)),
            Expr::Every(_) => false,
        }
    }

    /// The first fire strictly after `after`. `@every` counts from the Unix epoch.
    pub fn next_after(&self, after: Timestamp, zone: &Zone) -> Option<Timestamp> {
        self.fires_after(after, zone).next()
    }

    /// Fires strictly after `after`, in order.
    pub fn fires_after<'a>(&'a self, after: Timestamp, zone: &'a Zone) -> Fires<'a> {
        Fires {
            cron: self,
            zone,
            cursor: Some(floor_second(after)),
            cache: None,
        }
    }

    /// How DST shaped the fire at `at` (which should be a fire of this expression).
    pub fn dst_note(&self, at: Timestamp, zone: &Zone) -> Option<DstNote> {
        match &self.expr {
            Expr::Calendar(spec) => zoned::dst_note(spec, zone, at.as_second()),
            Expr::Every(_) => None,
        }
    }

    /// A plain-English sentence, e.g. "At 02:30 every day".
    pub fn describe(&self) -> String {
        match &self.expr {
            Expr::Calendar(spec) => describe::describe(spec),
            Expr::Every(iv) => format!("Every {iv}"),
        }
    }
}

/// Iterator over fire instants; see [`Cron::fires_after`].
pub struct Fires<'a> {
    cron: &'a Cron,
    zone: &'a Zone,
    /// Last instant returned (Unix seconds); `None` once exhausted.
    cursor: Option<i64>,
    cache: Option<Segment>,
}

impl Iterator for Fires<'_> {
    type Item = Timestamp;

    fn next(&mut self) -> Option<Timestamp> {
        let cursor = self.cursor?;
        let next = match &self.cron.expr {
            Expr::Calendar(spec) => zoned::next_after(spec, self.zone, cursor, &mut self.cache),
            Expr::Every(iv) => {
                let step = iv.as_secs();
                Some((cursor.div_euclid(step) + 1) * step)
            }
        };
        self.cursor = next;
        next.and_then(|s| Timestamp::from_second(s).ok())
    }
}

fn floor_second(t: Timestamp) -> i64 {
    let s = t.as_second();
    if t.subsec_nanosecond() < 0 {
        s - 1
    } else {
        s
    }
}

fn civil_of(t: jiff::civil::DateTime) -> Civil {
    Civil {
        year: i32::from(t.year()),
        month: t.month() as u32,
        day: t.day() as u32,
        hour: t.hour() as u32,
        minute: t.minute() as u32,
        second: t.second() as u32,
    }
}

impl FromStr for Cron {
    type Err = CronError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cron::parse(s)
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl fmt::Debug for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cron({:?})", self.source)
    }
}
