-- Applies a batch of outcomes, each only under its lease: ?1 JSON array of
-- {id, token, state, run_at, finished_at, error}, ?2 now. A lease that
-- expired no longer owns the job (as in jobs_rescue). Returns the jobs
-- updated, with the attempt that ended.
UPDATE jobs
SET state = c.state,
    run_at = COALESCE(c.run_at, jobs.run_at),
    finished_at = c.finished_at,
    last_error = c.error,
    lease_token = NULL,
    lease_expires_at = NULL
FROM (
    SELECT value ->> 'id' AS id, value ->> 'token' AS token, value ->> 'state' AS state,
           value ->> 'run_at' AS run_at, value ->> 'finished_at' AS finished_at, value ->> 'error' AS error
    FROM json_each(?1)
) AS c
WHERE jobs.id = c.id AND jobs.lease_token = c.token AND jobs.state = 'running' AND jobs.lease_expires_at > ?2
RETURNING jobs.id, jobs.attempt
