-- Closes attempts: $1 JSON array of {id, attempt, outcome, error, output}, $2 now.
UPDATE attempts
SET finished_at = $2, outcome = c.outcome, error = c.error, output = c.output
FROM jsonb_to_recordset($1::jsonb) AS c(id text, attempt bigint, outcome text, error text, output text)
WHERE attempts.job_id = c.id AND attempts.attempt = c.attempt AND attempts.finished_at IS NULL
