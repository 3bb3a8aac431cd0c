//! The Lua scripts, each prefixed with the shared library (lua/lib.lua,
//! then lua/lib_jobs.lua).

use redis::Script;

const LIB: &str = include_str!("lua/lib.lua");
const LIB_JOBS: &str = include_str!("lua/lib_jobs.lua");

macro_rules! scripts {
    ($($name:ident),* $(,)?) => {
        pub struct Scripts {
            $(pub $name: Script,)*
        }

        impl Scripts {
            pub fn load() -> Scripts {
                Scripts {
                    $($name: Script::new(&format!(
                        "{LIB}\n{LIB_JOBS}\n{}",
                        include_str!(concat!("lua/", stringify!($name), ".lua"))
                    )),)*
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
    occurrences_list,
    queue_stats,
    queue_set_paused,
    prune,
);
