-- Applies a batch of outcomes, each only under its lease, and closes their
-- attempts: $1 JSON array of {id, token, state, run_at, finished_at (any:
-- replaced by now when set), error, outcome, output}, $2 now (NULL: the
-- database's clock). A lease that expired no longer owns the job (as in
-- job_rescue). Returns the jobs updated, with the attempt that ended.
WITH t AS (
    SELECT COALESCE($2::bigint, (extract(epoch FROM clock_timestamp()) * 1000)::bigint) AS now
), c AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb)
        AS c(id text, token text, state text, run_at bigint, finished_at bigint, error text,
             outcome text, output text)
), done AS (
    UPDATE jobs
    SET state = c.state,
        run_at = COALESCE(c.run_at, jobs.run_at),
        finished_at = CASE WHEN c.finished_at IS NULL THEN NULL ELSE (SELECT now FROM t) END,
        last_error = c.error,
        lease_token = NULL,
        lease_expires_at = NULL
    FROM c
    -- The ANY(ARRAY(...)) gives the planner the primary-key path (see jobs_claim.sql).
    WHERE jobs.id = ANY(ARRAY(SELECT id FROM c))
      -- A matching lease token means the job is still running under this
      -- claim (finishing or cancelling clears it). No `state = 'running'`
      -- and a lease test no index serves: either lets the planner scan the
      -- partial lease index, which holds an entry per claim until vacuum
      -- (100 ms a batch after 20,000 jobs).
      AND jobs.id = c.id AND jobs.lease_token = c.token
      AND jobs.lease_expires_at - (SELECT now FROM t) > 0
    RETURNING jobs.id, jobs.attempt
), closed AS (
    UPDATE attempts
    SET finished_at = (SELECT now FROM t), outcome = c.outcome, error = c.error, output = c.output
    FROM done JOIN c ON c.id = done.id
    -- A plain join: an ANY(ARRAY(...)) here made each probe scan the array.
    WHERE attempts.job_id = done.id AND attempts.attempt = done.attempt
)
SELECT id, attempt FROM done
