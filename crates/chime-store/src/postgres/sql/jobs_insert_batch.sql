-- New pending jobs: $1 JSON array of jobs (payload and target as JSON text),
-- $2 now (NULL: the database's clock). A job whose unique key is held by a
-- pending or running job is not inserted; returns the ids inserted. Wakes
-- the workers of every instance when any was (NOTIFY, delivered at commit;
-- repeats in one transaction fold into one). One statement, so an enqueue
-- is one round trip.
WITH ins AS (
    INSERT INTO jobs (id, namespace, queue, kind, payload, priority, state, attempt, max_attempts,
                      timeout_ms, backoff_initial_ms, backoff_max_ms, target, run_at, created_at,
                      schedule_id, scheduled_for, unique_key)
    SELECT j.id, j.namespace, j.queue, j.kind, j.payload, j.priority, 'pending', 0, j.max_attempts,
           j.timeout_ms, j.backoff_initial_ms, j.backoff_max_ms, j.target, j.run_at,
           COALESCE($2::bigint, (extract(epoch FROM statement_timestamp()) * 1000)::bigint),
           j.schedule_id, j.scheduled_for, j.unique_key
    FROM jsonb_to_recordset($1::jsonb) AS j(id text, namespace text, queue text, kind text, payload text,
                                            priority integer, max_attempts bigint, timeout_ms bigint,
                                            backoff_initial_ms bigint, backoff_max_ms bigint, target text,
                                            run_at bigint, schedule_id text, scheduled_for bigint, unique_key text)
    ON CONFLICT (namespace, unique_key) WHERE unique_key IS NOT NULL AND state IN ('pending', 'running')
    DO NOTHING
    RETURNING id
), woke AS (
    SELECT pg_notify('chime_jobs', '') FROM (SELECT 1 FROM ins LIMIT 1) AS any_inserted
)
SELECT id FROM ins WHERE (SELECT count(*) FROM woke) >= 0
