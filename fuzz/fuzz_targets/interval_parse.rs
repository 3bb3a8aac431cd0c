//! Any string: interval parsing never panics, and what it accepts prints in a
//! canonical form that parses back to the same interval.
#![no_main]

use chime_core::Interval;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(iv) = Interval::parse(text) {
        assert_eq!(Interval::parse(&iv.to_string()).ok(), Some(iv), "{text:?}");
    }
});
