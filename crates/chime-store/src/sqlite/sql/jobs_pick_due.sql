-- The jobs a claim takes (jobs_claim.sql follows): those due by ?2,
-- highest priority first.
WITH picked AS (
    SELECT id FROM jobs
    WHERE state = 'pending'
      AND run_at <= ?2
      AND (json_array_length(?1) = 0 OR queue IN (SELECT value FROM json_each(?1)))
      AND queue NOT IN (SELECT name FROM queues WHERE paused = 1)
    ORDER BY priority DESC, run_at
    LIMIT ?3
)
