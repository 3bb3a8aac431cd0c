SELECT id, attempt, max_attempts, backoff_initial_ms, backoff_max_ms FROM jobs
WHERE state = 'running' AND lease_expires_at <= ?1
ORDER BY lease_expires_at
LIMIT ?2
