//! Any text: crontab reading never panics, every non-blank, non-comment
//! line is either an entry, an environment line or reported, and every
//! entry's schedule parses as cron.
#![no_main]

use chime_core::crontab;
use chime_core::Cron;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for system in [false, true] {
        let tab = crontab::parse(text, system);
        for e in &tab.entries {
            assert!(Cron::parse(&e.cron).is_ok(), "{:?}", e.cron);
            assert!(!e.command.trim().is_empty());
        }
        let lines = text.lines().count();
        assert!(tab.entries.iter().all(|e| e.line >= 1 && e.line <= lines));
        assert!(tab.unsupported.iter().all(|u| u.line >= 1 && u.line <= lines));
    }
});
