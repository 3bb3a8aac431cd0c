//! Test helpers shared by chime's crates. Tests talk to real servers
//! (scripts/services starts them); these give each test a space of its own.

mod postgres;
mod redis;

pub use self::redis::{server_url as redis_url, RedisSpace};
pub use postgres::{server_url as postgres_url, PgSchema};
