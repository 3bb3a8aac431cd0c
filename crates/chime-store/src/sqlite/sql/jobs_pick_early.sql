-- The jobs a claim ahead of the free slots takes (jobs_claim.sql follows):
-- those not yet due, after ?7 and by ?2, earliest first (index jobs_early).
WITH picked AS (
    SELECT id FROM jobs
    WHERE state = 'pending'
      AND run_at > ?7
      AND run_at <= ?2
      AND (json_array_length(?1) = 0 OR queue IN (SELECT value FROM json_each(?1)))
      AND queue NOT IN (SELECT name FROM queues WHERE paused = 1)
    ORDER BY run_at, priority DESC
    LIMIT ?3
)
