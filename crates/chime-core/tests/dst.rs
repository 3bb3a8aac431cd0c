//! DST rules of DESIGN §3, by hand, in four zones with different shifts:
//! New York and London (1 h), Lord Howe (30 min), Chatham (+12:45/+13:45).

use chime_core::time::civil::Civil;
use chime_core::{Cron, DstNote, Zone};
use jiff::Timestamp;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("instant")
}

fn fires(expr: &str, tz: &str, after: &str, n: usize) -> Vec<String> {
    let cron = Cron::parse(expr).expect("valid expression");
    let zone = Zone::get(tz).expect("zone");
    cron.fires_after(ts(after), &zone)
        .take(n)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .collect()
}

fn note(expr: &str, tz: &str, at: &str) -> Option<DstNote> {
    Cron::parse(expr)
        .unwrap()
        .dst_note(ts(at), &Zone::get(tz).unwrap())
}

fn civil(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Civil {
    Civil {
        year: y,
        month: mo,
        day: d,
        hour: h,
        minute: mi,
        second: 0,
    }
}

// New York 2026: 03-08 02:00 EST → 03:00 EDT (07:00Z); 11-01 02:00 EDT → 01:00 EST (06:00Z).
const NY: &str = "America/New_York";

#[test]
fn new_york_gap_moves_fixed_time_to_end_of_gap() {
    assert_eq!(
        fires("30 2 * * *", NY, "2026-03-08T05:00:00Z", 2),
        ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"]
    );
    assert_eq!(
        note("30 2 * * *", NY, "2026-03-08T07:00:00Z"),
        Some(DstNote::Moved {
            nominal: civil(2026, 3, 8, 2, 30),
            merged: false
        })
    );
}

#[test]
fn new_york_gap_merges_several_times_into_one_fire() {
    assert_eq!(
        fires("0,30 2 * * *", NY, "2026-03-08T05:00:00Z", 3),
        [
            "2026-03-08T07:00:00Z",
            "2026-03-09T06:00:00Z",
            "2026-03-09T06:30:00Z"
        ]
    );
    assert_eq!(
        fires("0 2,3 * * *", NY, "2026-03-08T05:00:00Z", 3),
        [
            "2026-03-08T07:00:00Z",
            "2026-03-09T06:00:00Z",
            "2026-03-09T07:00:00Z"
        ]
    );
    assert_eq!(
        note("0 2,3 * * *", NY, "2026-03-08T07:00:00Z"),
        Some(DstNote::Moved {
            nominal: civil(2026, 3, 8, 2, 0),
            merged: true
        })
    );
}

#[test]
fn new_york_gap_is_skipped_by_elapsed_time_schedules() {
    assert_eq!(
        fires("30 * * * *", NY, "2026-03-08T06:00:00Z", 2),
        ["2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z"]
    );
    assert_eq!(
        fires("*/15 * * * *", NY, "2026-03-08T06:40:00Z", 3),
        [
            "2026-03-08T06:45:00Z",
            "2026-03-08T07:00:00Z",
            "2026-03-08T07:15:00Z"
        ]
    );
    // Minute wildcard with a fixed hour: no fires in the missing hour at all.
    assert_eq!(
        fires("* 2 8 3 *", NY, "2026-03-08T00:00:00Z", 1),
        ["2027-03-08T07:00:00Z"]
    );
}

#[test]
fn new_york_overlap_fixed_time_fires_in_first_pass_only() {
    assert_eq!(
        fires("30 1 * * *", NY, "2026-11-01T04:00:00Z", 2),
        ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]
    );
    assert_eq!(
        note("30 1 * * *", NY, "2026-11-01T05:30:00Z"),
        Some(DstNote::FirstPassOnly)
    );
    assert_eq!(note("30 1 * * *", NY, "2026-11-02T06:30:00Z"), None);
    // Six fields, seconds first: the same rule.
    assert_eq!(
        fires("0 30 1 * * *", NY, "2026-11-01T04:00:00Z", 2),
        ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]
    );
}

#[test]
fn new_york_iteration_starting_inside_the_overlap_does_not_refire() {
    // 01:45 EDT: the first pass of 01:30 is over.
    assert_eq!(
        fires("30 1 * * *", NY, "2026-11-01T05:45:00Z", 1),
        ["2026-11-02T06:30:00Z"]
    );
    // 01:10 EST: inside the second pass, before its 01:30.
    assert_eq!(
        fires("30 1 * * *", NY, "2026-11-01T06:10:00Z", 1),
        ["2026-11-02T06:30:00Z"]
    );
    // A fixed time just after the overlap is unaffected.
    assert_eq!(
        fires("30 2 * * *", NY, "2026-11-01T06:10:00Z", 1),
        ["2026-11-01T07:30:00Z"]
    );
}

#[test]
fn new_york_overlap_elapsed_time_schedules_fire_in_both_passes() {
    assert_eq!(
        fires("*/30 * * * *", NY, "2026-11-01T05:00:00Z", 4),
        [
            "2026-11-01T05:30:00Z",
            "2026-11-01T06:00:00Z",
            "2026-11-01T06:30:00Z",
            "2026-11-01T07:00:00Z"
        ]
    );
    assert_eq!(
        fires("0 * * * *", NY, "2026-11-01T04:30:00Z", 3),
        [
            "2026-11-01T05:00:00Z",
            "2026-11-01T06:00:00Z",
            "2026-11-01T07:00:00Z"
        ]
    );
    assert_eq!(
        note("0 * * * *", NY, "2026-11-01T06:00:00Z"),
        Some(DstNote::SecondPass)
    );
    // Every minute of the repeated hour, twice.
    let cron = Cron::parse("* 1 1 11 *").unwrap();
    let zone = Zone::get(NY).unwrap();
    let times =
        chime_core::ScheduleTimes::new(chime_core::Trigger::cron(cron, zone), None, None).unwrap();
    assert_eq!(
        times
            .fires_between(ts("2026-11-01T04:00:00Z"), ts("2026-11-01T08:00:00Z"))
            .count(),
        120
    );
}

// London 2026: 03-29 01:00 GMT → 02:00 BST (01:00Z); 10-25 02:00 BST → 01:00 GMT (01:00Z).
const LONDON: &str = "Europe/London";

#[test]
fn london_gap_and_overlap() {
    assert_eq!(
        fires("30 1 * * *", LONDON, "2026-03-29T00:00:00Z", 2),
        ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"]
    );
    assert_eq!(
        fires("30 1 * * *", LONDON, "2026-10-25T00:00:00Z", 2),
        ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]
    );
    // Starting in the second pass (01:10 GMT).
    assert_eq!(
        fires("30 1 * * *", LONDON, "2026-10-25T01:10:00Z", 1),
        ["2026-10-26T01:30:00Z"]
    );
    assert_eq!(
        fires("0,30 * * * *", LONDON, "2026-10-25T00:15:00Z", 4),
        [
            "2026-10-25T00:30:00Z",
            "2026-10-25T01:00:00Z",
            "2026-10-25T01:30:00Z",
            "2026-10-25T02:00:00Z"
        ]
    );
}

// Lord Howe 2026: a 30-minute shift. 10-04 02:00 +10:30 → 02:30 +11 (10-03T15:30Z);
// 04-05 02:00 +11 → 01:30 +10:30 (04-04T15:00Z).
const LORD_HOWE: &str = "Australia/Lord_Howe";

#[test]
fn lord_howe_half_hour_gap() {
    assert_eq!(
        fires("15 2 * * *", LORD_HOWE, "2026-10-03T12:00:00Z", 2),
        ["2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"]
    );
    // 02:00 and 02:20 do not exist; 02:40 does.
    assert_eq!(
        fires("*/20 * * * *", LORD_HOWE, "2026-10-03T15:00:00Z", 2),
        ["2026-10-03T15:10:00Z", "2026-10-03T15:40:00Z"]
    );
}

#[test]
fn lord_howe_half_hour_overlap() {
    assert_eq!(
        fires("45 1 * * *", LORD_HOWE, "2026-04-04T12:00:00Z", 2),
        ["2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"]
    );
    assert_eq!(
        fires("45 1 * * *", LORD_HOWE, "2026-04-04T15:05:00Z", 1),
        ["2026-04-05T15:15:00Z"]
    );
    assert_eq!(
        fires("*/15 * * * *", LORD_HOWE, "2026-04-04T14:20:00Z", 5),
        [
            "2026-04-04T14:30:00Z",
            "2026-04-04T14:45:00Z",
            "2026-04-04T15:00:00Z",
            "2026-04-04T15:15:00Z",
            "2026-04-04T15:30:00Z"
        ]
    );
}

// Chatham 2026: 09-27 02:45 +12:45 → 03:45 +13:45 (09-26T14:00Z);
// 04-05 03:45 +13:45 → 02:45 +12:45 (04-04T14:00Z).
const CHATHAM: &str = "Pacific/Chatham";

#[test]
fn chatham_gap() {
    assert_eq!(
        fires("0 3 * * *", CHATHAM, "2026-09-26T12:00:00Z", 2),
        ["2026-09-26T14:00:00Z", "2026-09-27T13:15:00Z"]
    );
    assert_eq!(
        note("0 3 * * *", CHATHAM, "2026-09-26T14:00:00Z"),
        Some(DstNote::Moved {
            nominal: civil(2026, 9, 27, 3, 0),
            merged: false
        })
    );
}

#[test]
fn chatham_overlap() {
    assert_eq!(
        fires("0 3 * * *", CHATHAM, "2026-04-04T12:00:00Z", 2),
        ["2026-04-04T13:15:00Z", "2026-04-05T14:15:00Z"]
    );
    // 02:55 +12:45, in the second pass: 03:00 +12:45 today is a repeat.
    assert_eq!(
        fires("0 3 * * *", CHATHAM, "2026-04-04T14:10:00Z", 1),
        ["2026-04-05T14:15:00Z"]
    );
    assert_eq!(
        fires("0 * * * *", CHATHAM, "2026-04-04T13:00:00Z", 3),
        [
            "2026-04-04T13:15:00Z",
            "2026-04-04T14:15:00Z",
            "2026-04-04T15:15:00Z"
        ]
    );
}

#[test]
fn fires_always_move_forward_across_a_dst_year() {
    for tz in [NY, LONDON, LORD_HOWE, CHATHAM] {
        for expr in [
            "30 1 * * *",
            "*/20 * * * *",
            "0 2,3 * * *",
            "15 * * * *",
            "0 30 2 * * *",
        ] {
            let cron = Cron::parse(expr).unwrap();
            let zone = Zone::get(tz).unwrap();
            let all: Vec<Timestamp> = cron
                .fires_after(ts("2026-01-01T00:00:00Z"), &zone)
                .take_while(|t| *t < ts("2027-01-01T00:00:00Z"))
                .collect();
            assert!(all.windows(2).all(|w| w[0] < w[1]), "{expr} in {tz}");
            assert!(all.len() > 300, "{expr} in {tz}: {}", all.len());
        }
    }
}
