//! Any string: parsing never panics; an accepted expression iterates forward
//! in every zone class (none, 1 h shift, 30 min shift, midnight transitions)
//! and describes itself.
#![no_main]

use chime_core::{Cron, Zone};
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;

const ZONES: [&str; 4] = ["UTC", "America/New_York", "Australia/Lord_Howe", "America/Santiago"];

fuzz_target!(|data: &[u8]| {
    let Some((&seed, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Ok(cron) = Cron::parse(text) else { return };
    let zone = Zone::get(ZONES[usize::from(seed) % ZONES.len()]).expect("zone");
    // Starting instants spread over 1970..2100, picked by the seed.
    let start = Timestamp::from_second(i64::from(seed) * 16_000_000).expect("instant");
    let mut last = start;
    for fire in cron.fires_after(start, &zone).take(8) {
        assert!(fire > last, "{text:?}: {fire} not after {last}");
        assert!(cron.dst_note(fire, &zone).is_some() || cron.interval().is_some() || cron.matches_local(fire.to_zoned(zone.tz().clone()).datetime()));
        last = fire;
    }
    assert!(!cron.describe().is_empty());
});
