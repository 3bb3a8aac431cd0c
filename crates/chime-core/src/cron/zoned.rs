//! Fire instants of a calendar expression in a time zone.
//!
//! Guarantee: each call returns the first fire strictly after the given
//! instant, so iteration always moves forward in real time (cronie's rule).
//! DST is handled at the edges of constant-offset segments (DESIGN §3):
//!
//! * **Gap** (spring forward). Wall times inside the gap do not exist. A
//!   wall-clock schedule fires once, at the first instant after the gap, for
//!   all of its times inside it together. An elapsed-time schedule (seconds,
//!   minute or hour field starting with `*`) just has no fires there.
//! * **Overlap** (fall back). Wall times in the repeated span happen twice. A
//!   wall-clock schedule fires at the first pass only, also when iteration
//!   starts between the passes. An elapsed-time schedule fires in both.
//!
//! Not guaranteed: anything about instants before 1970 or after 9998, and
//! zones whose rules change after the tz database on the host was built.

use super::fields::CalendarSpec;
use crate::time::civil::Civil;
use crate::time::{Segment, Zone};

/// How a DST transition affected one fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DstNote {
    /// The wall time `nominal` fell in a spring-forward gap, so the fire moved
    /// to the first instant after it. `merged` when several wall times of the
    /// schedule (or the gap's end itself) collapsed into this one fire.
    Moved { nominal: Civil, merged: bool },
    /// The wall time happens twice today; this schedule fires in the first pass only.
    FirstPassOnly,
    /// The wall time happens twice today and this elapsed-time schedule fires
    /// again in the second pass: this is that second fire.
    SecondPass,
}

impl DstNote {
    /// What happened to the fire at `t`, for people: shown by `chime cron
    /// explain` and the dashboard.
    pub fn sentence(&self, t: jiff::Timestamp, zone: &Zone) -> String {
        let at = t
            .to_zoned(zone.tz().clone())
            .strftime("%Y-%m-%d %H:%M:%S %:z")
            .to_string();
        match *self {
            DstNote::Moved { nominal, merged } => {
                let date = format!("{:04}-{:02}-{:02}", nominal.year, nominal.month, nominal.day);
                let merged = if merged {
                    "; other times of this schedule that the same gap skipped fire with it, once"
                } else {
                    ""
                };
                let hm = if nominal.second == 0 {
                    format!("{:02}:{:02}", nominal.hour, nominal.minute)
                } else {
                    format!("{:02}:{:02}:{:02}", nominal.hour, nominal.minute, nominal.second)
                };
                format!(
                    "{hm} does not exist on {date} in {} (DST starts); the fire moves to {at}, when the gap ends{merged}",
                    zone.name()
                )
            }
            DstNote::FirstPassOnly => format!(
                "{at}: this wall time happens twice (DST ends); the schedule fires at the first pass only"
            ),
            DstNote::SecondPass => format!(
                "{at}: this wall time happens twice (DST ends); this schedule follows elapsed time and fires again in the second pass"
            ),
        }
    }
}

/// First fire strictly after instant `t` (Unix seconds). `cache` keeps the
/// last segment used, so that walking fires in order costs one tz lookup per
/// segment instead of one per fire.
pub fn next_after(
    spec: &CalendarSpec,
    zone: &Zone,
    t: i64,
    cache: &mut Option<Segment>,
) -> Option<i64> {
    let mut seg = match cache {
        Some(seg) if seg.contains(t) => *seg,
        _ => zone.segment_at(t),
    };
    let mut from = t.checked_add(seg.offset)?.checked_add(1)?;
    loop {
        if !spec.follows_elapsed_time {
            if let Some(prev) = seg.prev_offset {
                if prev > seg.offset {
                    // Wall times repeated after a fall-back fired in the first pass.
                    from = from.max(seg.start.saturating_add(prev));
                }
            }
        }
        let end_local = seg.end.saturating_add(seg.offset);
        let found = spec.next_local(from);
        if let Some(local) = found {
            if local < end_local {
                *cache = Some(seg);
                return Some(local - seg.offset);
            }
        }
        if seg.end == i64::MAX {
            return None;
        }
        let next = zone.segment_at(seg.end);
        let next_from = seg.end.saturating_add(next.offset);
        let spring_forward = next.offset > seg.offset;
        if !spec.follows_elapsed_time
            && spring_forward
            && found.is_some_and(|local| local < next_from)
        {
            // A wall time inside the spring-forward gap: fire as the gap ends.
            *cache = Some(next);
            return Some(seg.end);
        }
        if found.is_none() && next_from >= from {
            // Nothing later on the wall clock, and the clock does not turn back.
            return None;
        }
        from = next_from;
        seg = next;
    }
}

/// Explains how DST shaped the fire at `at`, if it did.
pub fn dst_note(spec: &CalendarSpec, zone: &Zone, at: i64) -> Option<DstNote> {
    let seg = zone.segment_at(at);
    let local = at + seg.offset;
    let matches_here = spec.matches(Civil::from_local_secs(local));
    if let Some(prev) = seg.prev_offset {
        if !spec.follows_elapsed_time && at == seg.start && prev < seg.offset {
            let gap = (seg.start + prev)..(seg.start + seg.offset);
            if let Some(first) = spec.next_local(gap.start).filter(|l| gap.contains(l)) {
                let more_in_gap = spec.next_local(first + 1).is_some_and(|l| gap.contains(&l));
                return Some(DstNote::Moved {
                    nominal: Civil::from_local_secs(first),
                    merged: matches_here || more_in_gap,
                });
            }
        }
        if spec.follows_elapsed_time && prev > seg.offset && local < seg.start + prev {
            return Some(DstNote::SecondPass);
        }
    }
    if !spec.follows_elapsed_time && matches_here && seg.end != i64::MAX {
        let next_offset = zone.offset_at(seg.end);
        if next_offset < seg.offset && local >= seg.end + next_offset {
            return Some(DstNote::FirstPassOnly);
        }
    }
    None
}
