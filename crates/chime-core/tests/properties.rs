//! Property tests: the engine against a brute-force oracle.
//!
//! The oracle shares no code with the engine's search: the generator builds
//! each field together with its own matcher (plain value sets, and the
//! `L`/`W`/`#` rules written another way), and DST is decided from jiff's
//! disambiguation of wall times. The oracle walks real time instant by
//! instant over a window and the engine's fires in that window must be
//! exactly the oracle's.

use chime_core::{Cron, Zone};
use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

const ZONES: &[&str] = &[
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kolkata",
    // Transitions at midnight: the gap swallows 00:00 itself.
    "America/Santiago",
    "America/Havana",
];

/// One term of a day-of-month or day-of-week field.
#[derive(Debug, Clone)]
enum DayTerm {
    Days(u64),
    FromLast(u32),
    NearestWeekday(u32),
    LastWeekday,
    Nth(u32, u32),
    LastOf(u32),
}

/// A generated expression with its independent matcher.
#[derive(Debug, Clone)]
struct Expr {
    text: String,
    seconds: u64,
    minutes: u64,
    hours: u64,
    months: u64,
    dom: Option<Vec<DayTerm>>,
    dow: Option<Vec<DayTerm>>,
    elapsed: bool,
}

fn sunday0(w: Weekday) -> u32 {
    w.to_sunday_zero_offset() as u32
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

impl Expr {
    fn matches(&self, t: DateTime) -> bool {
        let bit = |set: u64, v: i8| set & (1 << v) != 0;
        bit(self.seconds, t.second())
            && bit(self.minutes, t.minute())
            && bit(self.hours, t.hour())
            && bit(self.months, t.month())
            && self.day_matches(t.date())
    }

    fn day_matches(&self, date: Date) -> bool {
        let dom = self
            .dom
            .as_ref()
            .map(|terms| terms.iter().any(|t| dom_term(t, date)));
        let dow = self
            .dow
            .as_ref()
            .map(|terms| terms.iter().any(|t| dow_term(t, date)));
        match (dom, dow) {
            (None, None) => true,
            (Some(a), None) | (None, Some(a)) => a,
            (Some(a), Some(b)) => a || b,
        }
    }
}

fn dom_term(term: &DayTerm, date: Date) -> bool {
    let day = date.day() as u32;
    let len = date.days_in_month() as u32;
    match *term {
        DayTerm::Days(set) => set & (1 << day) != 0,
        DayTerm::FromLast(n) => n < len && day == len - n,
        DayTerm::NearestWeekday(n) => {
            if n > len {
                return false;
            }
            // Scan outwards from day n for the closest weekday inside the month,
            // preferring the earlier one on a tie.
            let target = date
                .first_of_month()
                .saturating_add(jiff::Span::new().days(i64::from(n) - 1));
            let candidates = [0i64, -1, 1, -2, 2];
            let found = candidates.iter().find_map(|&delta| {
                let d = target.saturating_add(jiff::Span::new().days(delta));
                (d.month() == date.month() && !is_weekend(d)).then_some(d)
            });
            found == Some(date)
        }
        DayTerm::LastWeekday => {
            let mut d = date.last_of_month();
            while is_weekend(d) {
                d = d.yesterday().expect("in range");
            }
            d == date
        }
        _ => false,
    }
}

fn dow_term(term: &DayTerm, date: Date) -> bool {
    let w = sunday0(date.weekday());
    let day = date.day() as u32;
    match *term {
        DayTerm::Days(set) => set & (1 << w) != 0 || (w == 0 && set & (1 << 7) != 0),
        DayTerm::Nth(n, k) => w == n % 7 && (day - 1) / 7 + 1 == k,
        DayTerm::LastOf(n) => w == n % 7 && day + 7 > date.days_in_month() as u32,
        _ => false,
    }
}

/// The oracle: whether instant `u` is a fire under DESIGN §3.
fn is_fire(e: &Expr, tz: &TimeZone, u: Timestamp) -> bool {
    let local = tz.to_datetime(u);
    if e.matches(local) {
        // A wall-clock schedule fires at the first instant showing this wall time.
        if e.elapsed || tz.to_ambiguous_timestamp(local).earlier().ok() == Some(u) {
            return true;
        }
    }
    if e.elapsed {
        return false;
    }
    // The first instant after a spring-forward gap fires for the gap's wall times.
    let before = tz.to_offset(u - SignedDuration::from_secs(1)).seconds();
    let after = tz.to_offset(u).seconds();
    if after <= before {
        return false;
    }
    let width = i64::from(after - before);
    // The gap's wall times are the `width` seconds of wall clock skipped just before u.
    let gap_start = tz.to_datetime(u) - SignedDuration::from_secs(width);
    (0..width).any(|s| e.matches(gap_start + SignedDuration::from_secs(s)))
}

/// The engine's fires in `(t, t + horizon]` equal the oracle's.
fn check(
    e: &Expr,
    zone_name: &str,
    t: Timestamp,
    step: i64,
    horizon: i64,
) -> Result<(), TestCaseError> {
    let cron = match Cron::parse(&e.text) {
        Ok(cron) => cron,
        // Random fields can combine into one that never fires (`30` in
        // February only): the parser must say so, and the case is discarded.
        Err(err) if err.reason.contains("never fire") => {
            return Err(TestCaseError::reject("never fires"))
        }
        Err(err) => return Err(TestCaseError::fail(format!("{}: {err}", e.text))),
    };
    prop_assert_eq!(cron.follows_elapsed_time(), e.elapsed, "{}", e.text);
    let zone = Zone::get(zone_name).expect("zone");
    let limit = t + SignedDuration::from_secs(horizon);
    let engine: Vec<Timestamp> = cron
        .fires_after(t, &zone)
        .take_while(|f| *f <= limit)
        .collect();
    let mut oracle = Vec::new();
    let first = (t.as_second().div_euclid(step) + 1) * step;
    let mut u = Timestamp::from_second(first).expect("instant");
    while u <= limit {
        if is_fire(e, zone.tz(), u) {
            oracle.push(u);
        }
        u += SignedDuration::from_secs(step);
    }
    if let Some(i) = (0..engine.len().max(oracle.len())).find(|&i| engine.get(i) != oracle.get(i)) {
        return Err(TestCaseError::fail(format!(
            "{} in {zone_name} after {t}: fire #{i} is {:?} for the engine, {:?} for the oracle",
            e.text,
            engine.get(i),
            oracle.get(i)
        )));
    }
    Ok(())
}

/// A numeric field's text and its value set.
fn numeric(lo: u32, hi: u32) -> impl Strategy<Value = (String, u64)> {
    let span = move |a: u32, b: u32, n: u32| {
        (a..=b)
            .step_by(n as usize)
            .fold(0u64, |acc, v| acc | 1 << v)
    };
    prop_oneof![
        Just(("*".to_string(), span(lo, hi, 1))),
        (1..=(hi - lo).div_ceil(2)).prop_map(move |n| (format!("*/{n}"), span(lo, hi, n))),
        (lo..=hi).prop_map(move |v| (v.to_string(), span(v, v, 1))),
        (lo..=hi, lo..=hi).prop_map(move |(a, b)| {
            let (a, b) = (a.min(b), a.max(b));
            (format!("{a}-{b}"), span(a, b, 1))
        }),
        (lo..=hi, lo..=hi, 1..=10u32).prop_map(move |(a, b, n)| {
            let (a, b) = (a.min(b), a.max(b));
            (format!("{a}-{b}/{n}"), span(a, b, n))
        }),
        (lo..=hi, 1..=10u32).prop_map(move |(a, n)| (format!("{a}/{n}"), span(a, hi, n))),
        proptest::collection::btree_set(lo..=hi, 1..4).prop_map(|s| {
            let text = s.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            (text, s.iter().fold(0u64, |acc, v| acc | 1 << v))
        }),
    ]
}

/// A plain day field; a bare `*` leaves the field unrestricted.
fn day_set((text, set): (String, u64)) -> (String, Option<Vec<DayTerm>>) {
    let terms = (text != "*").then(|| vec![DayTerm::Days(set)]);
    (text, terms)
}

fn day_of_month() -> impl Strategy<Value = (String, Option<Vec<DayTerm>>)> {
    prop_oneof![
        4 => Just(("*".to_string(), None)),
        1 => Just(("?".to_string(), None)),
        2 => numeric(1, 31).prop_map(day_set),
        1 => Just(("L".to_string(), Some(vec![DayTerm::FromLast(0)]))),
        1 => (1..=5u32).prop_map(|n| (format!("L-{n}"), Some(vec![DayTerm::FromLast(n)]))),
        1 => (1..=31u32).prop_map(|n| (format!("{n}W"), Some(vec![DayTerm::NearestWeekday(n)]))),
        1 => Just(("LW".to_string(), Some(vec![DayTerm::LastWeekday]))),
        1 => (1..=28u32).prop_map(|n| (format!("{n},L"), Some(vec![DayTerm::Days(1 << n), DayTerm::FromLast(0)]))),
    ]
}

fn day_of_week() -> impl Strategy<Value = (String, Option<Vec<DayTerm>>)> {
    prop_oneof![
        4 => Just(("*".to_string(), None)),
        2 => numeric(0, 7).prop_map(day_set),
        1 => (0..=7u32, 1..=5u32).prop_map(|(d, k)| (format!("{d}#{k}"), Some(vec![DayTerm::Nth(d, k)]))),
        1 => (0..=6u32).prop_map(|d| (format!("{d}L"), Some(vec![DayTerm::LastOf(d)]))),
        1 => Just(("MON-FRI".to_string(), Some(vec![DayTerm::Days(0b11_1110)]))),
        1 => Just(("SAT,SUN".to_string(), Some(vec![DayTerm::Days(0b100_0001)]))),
    ]
}

fn month() -> impl Strategy<Value = (String, u64)> {
    prop_oneof![6 => Just(("*".to_string(), 0x1ffe)), 1 => numeric(1, 12)]
}

fn expr(with_seconds: bool) -> impl Strategy<Value = Expr> {
    let seconds = if with_seconds {
        numeric(0, 59).boxed()
    } else {
        Just(("0".to_string(), 1u64)).boxed()
    };
    (
        seconds,
        numeric(0, 59),
        numeric(0, 23),
        day_of_month(),
        month(),
        day_of_week(),
    )
        .prop_map(move |(s, mi, h, dom, mo, dow)| {
            let head = if with_seconds {
                format!("{} ", s.0)
            } else {
                String::new()
            };
            Expr {
                text: format!("{head}{} {} {} {} {}", mi.0, h.0, dom.0, mo.0, dow.0),
                elapsed: [&s.0, &mi.0, &h.0].iter().any(|f| f.starts_with('*')),
                seconds: s.1,
                minutes: mi.1,
                hours: h.1,
                months: mo.1,
                dom: dom.1,
                dow: dow.1,
            }
        })
}

/// Instants from 2025 to 2028, most within half a day of a DST transition.
fn instant(zone: &'static str) -> impl Strategy<Value = Timestamp> {
    let tz = TimeZone::get(zone).expect("zone");
    let start: Timestamp = "2025-01-01T00:00:00Z".parse().expect("instant");
    let near: Vec<i64> = tz
        .following(start)
        .take(8)
        .map(|t| t.timestamp().as_second())
        .collect();
    let near = if near.is_empty() {
        vec![start.as_second()]
    } else {
        near
    };
    prop_oneof![
        1 => start.as_second()..start.as_second() + 3 * 366 * 86_400,
        3 => (proptest::sample::select(near), -43_200i64..7_200).prop_map(|(t, d)| t + d),
    ]
    .prop_map(|s| Timestamp::from_second(s).expect("instant"))
}

fn zone_and_instant() -> impl Strategy<Value = (&'static str, Timestamp)> {
    proptest::sample::select(ZONES).prop_flat_map(|z| (Just(z), instant(z)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn five_fields_fire_exactly_when_the_oracle_says(e in expr(false), (zone, t) in zone_and_instant()) {
        // Minute grid over two days of real time.
        check(&e, zone, t, 60, 2 * 86_400)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn six_fields_fire_exactly_when_the_oracle_says(e in expr(true), (zone, t) in zone_and_instant()) {
        // Second grid over 16 hours, enough to cross a transition.
        check(&e, zone, t, 1, 16 * 3600)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Day rules over years: one fire-day check per day of a 3-year window,
    /// in UTC, so that sparse day patterns (`5#5`, `31W`) are exercised.
    #[test]
    fn day_rules_match_the_oracle_over_years(e in expr(false)) {
        let e = Expr { text: format!("0 0 {}", e.text.splitn(3, ' ').nth(2).unwrap_or("* * *")), seconds: 1, minutes: 1, hours: 1, elapsed: false, ..e };
        let t: Timestamp = "2025-12-31T23:59:59Z".parse().expect("instant");
        check(&e, "UTC", t, 86_400, 3 * 366 * 86_400)?;
    }

    #[test]
    fn iteration_is_strictly_increasing(e in expr(false), (zone, t) in zone_and_instant()) {
        let Ok(cron) = Cron::parse(&e.text) else { return Err(TestCaseError::reject("never fires")) };
        let zone = Zone::get(zone).expect("zone");
        let mut last = t;
        for fire in cron.fires_after(t, &zone).take(50) {
            prop_assert!(fire > last, "{}: {fire} after {last}", e.text);
            // The iterator and a fresh next_after agree.
            prop_assert_eq!(cron.next_after(last, &zone), Some(fire));
            last = fire;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics(text in "[0-9*/,?LW#A-Za-z@ -]{0,40}") {
        if let Ok(cron) = Cron::parse(&text) {
            let t: Timestamp = "2026-06-30T23:59:59Z".parse().expect("instant");
            let zone = Zone::get("America/New_York").expect("zone");
            let fires: Vec<Timestamp> = cron.fires_after(t, &zone).take(3).collect();
            prop_assert!(fires.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(!cron.describe().is_empty());
        }
    }
}
