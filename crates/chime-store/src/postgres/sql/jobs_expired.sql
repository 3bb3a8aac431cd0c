-- Running jobs whose lease ended before $1, at most $2, locked so that two
-- reapers never rescue the same one.
SELECT id, attempt, max_attempts, backoff_initial_ms, backoff_max_ms FROM jobs
WHERE state = 'running' AND lease_expires_at <= $1
ORDER BY lease_expires_at
LIMIT $2
FOR UPDATE SKIP LOCKED
