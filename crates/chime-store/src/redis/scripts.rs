//! The Lua scripts, loaded into Redis as one function library: the
//! shared code (lua/lib.lua, then lua/lib_jobs.lua) at its top level, which
//! Redis runs once when it loads the library, and each script's file as
//! the body of a function of its own. A script sent with EVALSHA ran the
//! shared code again on every call, about 97,000 instructions (9 µs)
//! before its first command (docs/decisions.md, "Sixteenth pass").

use std::fmt::Write as _;

const LIB: &str = include_str!("lua/lib.lua");
const LIB_JOBS: &str = include_str!("lua/lib_jobs.lua");

/// One script: the name of its function in the library.
pub struct Function {
    pub name: String,
}

macro_rules! scripts {
    ($($name:ident),* $(,)?) => {
        pub struct Scripts {
            /// The library's code, as FUNCTION LOAD takes it.
            pub library: String,
            /// The library's name: `chime_` and a hash of its code, so
            /// instances of different versions sharing a Redis each call
            /// their own.
            pub library_name: String,
            $(pub $name: Function,)*
        }

        impl Scripts {
            pub fn load() -> Scripts {
                let bodies = [$((stringify!($name), include_str!(concat!("lua/", stringify!($name), ".lua"))),)*];
                let mut all = format!("{LIB}\n{LIB_JOBS}\n");
                for (_, body) in &bodies {
                    all.push_str(body);
                }
                let hash = redis::Script::new(&all).get_hash()[..16].to_string();
                let library_name = format!("chime_{hash}");
                let mut library = format!("#!lua name={library_name}\n{LIB}\n{LIB_JOBS}\n");
                for (name, body) in &bodies {
                    // Infallible: writing to a String.
                    let _ = write!(
                        library,
                        "redis.register_function('{library_name}_{name}', function(keys, args)\nbegin(keys, args)\n{body}\nend)\n"
                    );
                }
                Scripts {
                    $($name: Function { name: format!("{library_name}_{}", stringify!($name)) },)*
                    library,
                    library_name,
                }
            }
        }
    };
}

scripts!(
    schedule_create,
    schedule_get,
    schedule_update,
    schedule_delete,
    schedule_adopt,
    schedules_list,
    schedules_due,
    fire,
    buckets_acquire,
    buckets_release,
    buckets_list,
    instances_beat,
    instances_leave,
    instances_list,
    tokens_create,
    tokens_find,
    tokens_list,
    tokens_delete,
    jobs_enqueue,
    jobs_claim,
    job_heartbeat,
    jobs_complete,
    jobs_expired,
    jobs_rescue,
    job_cancel,
    job_retry,
    job_delete,
    jobs_list,
    job_get,
    job_adopt,
    finished_adopt,
    occurrences_list,
    queue_stats,
    queue_set_paused,
    prune,
);
