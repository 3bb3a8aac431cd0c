-- $1 job, $2 attempt, $3 now, $4 outcome, $5 error, $6 output.
UPDATE attempts SET finished_at = $3, outcome = $4, error = $5, output = $6
WHERE job_id = $1 AND attempt = $2 AND finished_at IS NULL
