INSERT INTO jobs (id, namespace, queue, kind, payload, priority, state, attempt, max_attempts,
                  timeout_ms, backoff_initial_ms, backoff_max_ms, target, run_at, created_at,
                  schedule_id, scheduled_for, unique_key)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
