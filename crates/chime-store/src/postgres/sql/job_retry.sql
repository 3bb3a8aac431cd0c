-- A finished job runs once more, now.
UPDATE jobs
SET state = 'pending', run_at = $2, finished_at = NULL,
    max_attempts = GREATEST(max_attempts, attempt + 1)
WHERE id = $1 AND state IN ('dead', 'cancelled', 'succeeded')
RETURNING *
