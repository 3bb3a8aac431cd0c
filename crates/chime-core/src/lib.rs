//! chime's core: domain types and the time engine. No I/O.
//!
//! * [`cron`]: cron expressions and their DST-aware fire times.
//! * [`schedule`]: triggers (`cron`, `every`, `at`), bounds and jitter.
//! * [`time`]: calendar arithmetic, zones and the [`time::Clock`] seam.
//! * [`model`]: schedules, jobs, attempts and the occurrence ledger.
//! * [`retry`]: backoff delays.
//! * [`crontab`]: reading crontab files into schedules.

pub mod cron;
pub mod crontab;
pub mod model;
pub mod retry;
pub mod schedule;
pub mod time;

pub use cron::{Cron, CronError, CronField, DstNote};
pub use schedule::interval::Interval;
pub use schedule::{ScheduleTimes, Trigger};
pub use time::Zone;
