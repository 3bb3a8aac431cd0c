-- New pending jobs: ?1 JSON array of jobs (payload and target as JSON text),
-- ?2 now.
INSERT INTO jobs (id, namespace, queue, kind, payload, priority, state, attempt, max_attempts,
                  timeout_ms, backoff_initial_ms, backoff_max_ms, target, run_at, created_at,
                  schedule_id, scheduled_for, unique_key)
SELECT value ->> 'id', value ->> 'namespace', value ->> 'queue', value ->> 'kind', value ->> 'payload',
       value ->> 'priority', 'pending', 0, value ->> 'max_attempts', value ->> 'timeout_ms',
       value ->> 'backoff_initial_ms', value ->> 'backoff_max_ms', value ->> 'target', value ->> 'run_at', ?2,
       value ->> 'schedule_id', value ->> 'scheduled_for', value ->> 'unique_key'
FROM json_each(?1)
