//! chime's engine: everything between the store and the outside world.
//!
//! * [`scheduler`]: bucket leases, the timing heap, misfire planning.
//! * [`worker`]: claiming, leases and heartbeats, retries, shutdown.
//! * [`executor`]: HTTP callbacks, commands, in-process handlers.
//! * [`reaper`], [`retention`]: background maintenance.
//! * [`metrics`]: what `/metrics` shows.
//! * [`service`]: the commands the API and CLI issue.
//! * [`engine`]: all of it assembled.

pub mod auth;
pub mod declared;
pub mod email;
pub mod engine;
pub mod events;
pub mod executor;
pub mod metrics;
pub mod notify;
pub mod pull;
pub mod reaper;
pub mod retention;
pub mod scheduler;
pub mod service;
pub mod store_clock;
pub mod worker;

pub use engine::{Engine, EngineConfig};
pub use events::Events;
pub use executor::{JobContext, JobError, JobResult};
