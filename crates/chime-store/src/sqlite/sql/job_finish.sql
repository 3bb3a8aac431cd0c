-- Applies an outcome under the lease: ?1 id, ?2 lease token, ?3 new state,
-- ?4 run_at (retries), ?5 finished_at (NULL for retries), ?6 last error.
-- A lease that already expired no longer owns the job, as in jobs_rescue.
UPDATE jobs
SET state = ?3, run_at = COALESCE(?4, run_at), finished_at = ?5, last_error = ?6,
    lease_token = NULL, lease_expires_at = NULL
WHERE id = ?1 AND lease_token = ?2 AND state = 'running' AND lease_expires_at > ?7
RETURNING attempt
