//! The chaos test (issue: scale-out): several real `chime serve` processes
//! on a private Redis or PostgreSQL server, every-second schedules posting
//! to a local receiver, and a disruption plan: kill -9 and restart a random
//! instance every 10–20 s, SIGSTOP one past its lease then SIGCONT it, and
//! restart the store once. The checker then matches every expected
//! (schedule, instant) to exactly one job.
//!
//! `chime-chaos` runs it from the command line (scripts/chaos); the short
//! form runs in the test suite (crates/chime/tests/chaos.rs).

mod checker;
mod instances;
mod receiver;
mod scenario;
mod server;

pub use checker::Report;
pub use scenario::{run, Backend, Plan};
