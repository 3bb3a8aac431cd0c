-- Applies a batch of outcomes, each only under its lease: $1 JSON array of
-- {id, token, state, run_at, finished_at, error}, $2 now. A lease that
-- expired no longer owns the job (as in job_rescue). Returns the jobs
-- updated, with the attempt that ended.
UPDATE jobs
SET state = c.state,
    run_at = COALESCE(c.run_at, jobs.run_at),
    finished_at = c.finished_at,
    last_error = c.error,
    lease_token = NULL,
    lease_expires_at = NULL
FROM jsonb_to_recordset($1::jsonb) AS c(id text, token text, state text, run_at bigint, finished_at bigint, error text)
WHERE jobs.id = c.id AND jobs.lease_token = c.token AND jobs.state = 'running' AND jobs.lease_expires_at > $2
RETURNING jobs.id, jobs.attempt
