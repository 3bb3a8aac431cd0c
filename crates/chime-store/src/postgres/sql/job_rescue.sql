-- $1 id, $2 new state, $3 run_at, $4 finished_at, $5 now.
UPDATE jobs
SET state = $2, run_at = $3, finished_at = $4, last_error = 'lease expired',
    lease_token = NULL, lease_expires_at = NULL
WHERE id = $1 AND state = 'running' AND lease_expires_at <= $5
RETURNING attempt
