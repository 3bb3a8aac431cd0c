//! Next-fire latency of typical expressions: `cargo bench -p chime-core --bench cron_next`.
//!
//! Each sample times a batch of `next_after` calls from fresh instants (no
//! iterator cache: the scheduler asks for one next fire per fire), and the
//! figures are the median and 90th percentile over samples, which a noisy
//! shared machine disturbs far less than a mean.

use chime_core::{Cron, Zone};
use jiff::Timestamp;
use std::hint::black_box;
use std::time::Instant;

const CASES: &[(&str, &str)] = &[
    ("*/15 9-17 * * MON-FRI", "America/New_York"),
    ("30 2 * * *", "Europe/London"),
    ("0 0 1 * *", "UTC"),
    ("0 */5 * * * *", "Asia/Kolkata"),
    ("0 12 * * 5#2", "Pacific/Chatham"),
    ("0 0 L * *", "Australia/Lord_Howe"),
    ("0 0 29 2 *", "UTC"),
];

const SAMPLES: usize = 101;
const BATCH: usize = 1000;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let samples = if quick { 11 } else { SAMPLES };
    let base = "2026-01-15T10:17:23Z"
        .parse::<Timestamp>()
        .expect("instant")
        .as_second();
    println!(
        "{:<26} {:<22} {:>12} {:>12}",
        "expression", "zone", "median ns", "p90 ns"
    );
    let mut medians = Vec::new();
    for (expr, tz) in CASES {
        let cron = Cron::parse(expr).expect("valid");
        let zone = Zone::get(tz).expect("zone");
        // Start instants spread over a year, so DST edges are in the mix.
        let starts: Vec<Timestamp> = (0..BATCH as i64)
            .map(|i| Timestamp::from_second(base + i * 31_557).expect("instant"))
            .collect();
        let mut per_call: Vec<f64> = (0..samples)
            .map(|_| {
                let t0 = Instant::now();
                for s in &starts {
                    black_box(cron.next_after(black_box(*s), &zone));
                }
                t0.elapsed().as_nanos() as f64 / BATCH as f64
            })
            .collect();
        per_call.sort_by(f64::total_cmp);
        let median = per_call[per_call.len() / 2];
        let p90 = per_call[per_call.len() * 9 / 10];
        medians.push(median);
        println!("{expr:<26} {tz:<22} {median:>12.0} {p90:>12.0}");
    }
    medians.sort_by(f64::total_cmp);
    println!(
        "median over expressions: {:.0} ns per next fire",
        medians[medians.len() / 2]
    );
}
