-- Closes attempts: ?1 JSON array of {id, attempt, outcome, error, output}, ?2 now.
UPDATE attempts
SET finished_at = ?2, outcome = c.outcome, error = c.error, output = c.output
FROM (
    SELECT value ->> 'id' AS id, value ->> 'attempt' AS attempt, value ->> 'outcome' AS outcome,
           value ->> 'error' AS error, value ->> 'output' AS output
    FROM json_each(?1)
) AS c
WHERE attempts.job_id = c.id AND attempts.attempt = c.attempt AND attempts.finished_at IS NULL
