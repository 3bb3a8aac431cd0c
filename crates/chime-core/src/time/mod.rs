//! Time: calendar arithmetic, zones, and the clock every engine part reads.

pub mod civil;
pub mod clock;
pub mod zone;

pub use clock::{Clock, ManualClock, SystemClock};
pub use zone::{Segment, UnknownZone, Zone};
