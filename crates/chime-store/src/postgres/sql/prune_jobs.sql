-- Finished jobs older than $1, at most $2, with their attempts.
WITH gone AS (
    DELETE FROM jobs WHERE id IN (
        SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < $1 LIMIT $2
    )
    RETURNING id
), attempts_gone AS (
    DELETE FROM attempts WHERE job_id IN (SELECT id FROM gone)
)
SELECT id FROM gone
