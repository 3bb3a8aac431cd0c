-- ?1 JSON array of queues (empty: any queue), ?2 due by, ?3 limit, ?4 worker,
-- ?5 lease token, ?6 lease expiry. Paused queues are never claimed from.
UPDATE jobs
SET state = 'running', attempt = attempt + 1, worker = ?4, lease_token = ?5, lease_expires_at = ?6
WHERE id IN (
    SELECT id FROM jobs
    WHERE state = 'pending'
      AND run_at <= ?2
      AND (json_array_length(?1) = 0 OR queue IN (SELECT value FROM json_each(?1)))
      AND queue NOT IN (SELECT name FROM queues WHERE paused = 1)
    ORDER BY priority DESC, run_at
    LIMIT ?3
)
RETURNING *
