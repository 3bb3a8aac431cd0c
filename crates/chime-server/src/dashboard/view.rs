//! What the templates show, already formatted: times in the schedule's
//! zone with UTC beside them, states as words, DST warnings as sentences.

use chime_core::model::{Job, Occurrence, Schedule};
use chime_core::{Cron, Zone};
use jiff::Timestamp;

pub fn utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%SZ").to_string()
}

pub fn local(t: Timestamp, zone: &Zone) -> String {
    t.to_zoned(zone.tz().clone())
        .strftime("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

pub fn opt_utc(t: Option<Timestamp>) -> String {
    t.map(utc).unwrap_or_else(|| "–".into())
}

/// The schedule's zone (its own, or the server's default).
pub fn zone_of(s: &Schedule, default: &Zone) -> Zone {
    s.spec
        .timezone
        .as_deref()
        .and_then(|z| Zone::get(z).ok())
        .unwrap_or_else(|| default.clone())
}

pub fn trigger(s: &Schedule) -> String {
    match (&s.spec.cron, &s.spec.every, s.spec.at) {
        (Some(c), _, _) => c.clone(),
        (_, Some(e), _) => format!("every {e}"),
        (_, _, Some(at)) => format!("at {}", utc(at)),
        _ => "–".into(),
    }
}

pub struct Fire {
    pub local: String,
    pub utc: String,
    pub dst: Option<String>,
}

/// The next `n` fires of a cron expression from `after`, with DST notes.
pub fn cron_fires(cron: &Cron, zone: &Zone, after: Timestamp, n: usize) -> Vec<Fire> {
    cron.fires_after(after, zone)
        .take(n)
        .map(|t| Fire {
            local: local(t, zone),
            utc: utc(t),
            dst: cron.dst_note(t, zone).map(|note| note.sentence(t, zone)),
        })
        .collect()
}

pub struct ScheduleRow {
    pub id: String,
    pub name: String,
    pub when: String,
    pub zone: String,
    pub state: &'static str,
    pub next_local: String,
    pub next_utc: String,
    pub dst: Option<String>,
    pub queue: String,
}

pub fn schedule_row(s: &Schedule, default: &Zone) -> ScheduleRow {
    let zone = zone_of(s, default);
    let dst = match (&s.spec.cron, s.next_fire_at) {
        (Some(c), Some(next)) => Cron::parse(c).ok().and_then(|cron| {
            // A DST note on any of the next week's fires.
            let week = next + jiff::SignedDuration::from_hours(24 * 7);
            cron.fires_after(next - jiff::SignedDuration::from_secs(1), &zone)
                .take_while(|t| *t <= week)
                .take(200)
                .find_map(|t| cron.dst_note(t, &zone).map(|n| n.sentence(t, &zone)))
        }),
        _ => None,
    };
    ScheduleRow {
        id: s.id.clone(),
        name: s.spec.name.clone(),
        when: trigger(s),
        zone: zone.name().to_string(),
        state: if s.spec.paused { "paused" } else { "active" },
        next_local: s
            .next_fire_at
            .map(|t| local(t, &zone))
            .unwrap_or_else(|| "–".into()),
        next_utc: opt_utc(s.next_fire_at),
        dst,
        queue: s.spec.job.queue.clone(),
    }
}

pub struct LedgerRow {
    pub local: String,
    pub utc: String,
    pub outcome: &'static str,
    pub count: u64,
    pub job_id: Option<String>,
    pub reason: String,
}

pub fn ledger_row(o: &Occurrence, zone: &Zone) -> LedgerRow {
    LedgerRow {
        local: local(o.scheduled_for, zone),
        utc: utc(o.scheduled_for),
        outcome: o.outcome.as_str(),
        count: o.count,
        job_id: o.job_id.clone(),
        reason: o.reason.clone().unwrap_or_default(),
    }
}

pub struct JobRow {
    pub id: String,
    pub short_id: String,
    pub queue: String,
    pub kind: String,
    pub state: &'static str,
    pub attempt: String,
    pub run_at: String,
    pub error: String,
}

pub fn job_row(j: &Job) -> JobRow {
    let mut error = j.last_error.clone().unwrap_or_default();
    if error.chars().count() > 80 {
        error = error.chars().take(79).collect::<String>() + "…";
    }
    JobRow {
        short_id: j
            .id
            .chars()
            .rev()
            .take(12)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect(),
        id: j.id.clone(),
        queue: j.job.queue.clone(),
        kind: j.job.kind.clone(),
        state: j.state.as_str(),
        attempt: format!("{}/{}", j.attempt, j.job.max_attempts),
        run_at: utc(j.run_at),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_show_the_zone_utc_and_dst_warnings() {
        let cron = Cron::parse("30 2 * * *").unwrap();
        let zone = Zone::get("Europe/Berlin").unwrap();
        let after: Timestamp = "2026-03-27T12:00:00Z".parse().unwrap();
        let fires = cron_fires(&cron, &zone, after, 3);
        assert_eq!(fires[0].local, "2026-03-28 02:30:00 CET");
        assert_eq!(fires[0].utc, "2026-03-28 01:30:00Z");
        assert!(fires[0].dst.is_none());
        // 02:30 does not exist on 29 March in Berlin: the fire moves to 03:00.
        assert_eq!(fires[1].local, "2026-03-29 03:00:00 CEST");
        let warning = fires[1].dst.as_deref().unwrap();
        assert!(
            warning.contains("does not exist") && warning.contains("2026-03-29"),
            "{warning}"
        );
        assert!(fires[2].dst.is_none());
    }
}
