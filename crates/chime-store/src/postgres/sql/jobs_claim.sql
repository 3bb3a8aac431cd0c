-- $1 queues (empty: any queue), $2 due by, $3 limit, $4 worker, $5 lease
-- token, $6 lease expiry, $7 now. SKIP LOCKED: concurrent claimers take
-- different jobs without waiting for each other. Paused queues are never
-- claimed from. One attempt row per claimed job.
WITH picked AS (
    SELECT id FROM jobs
    WHERE state = 'pending'
      AND run_at <= $2
      AND (cardinality($1::text[]) = 0 OR queue = ANY($1::text[]))
      AND queue NOT IN (SELECT name FROM queues WHERE paused)
    ORDER BY priority DESC, run_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE jobs
    SET state = 'running', attempt = jobs.attempt + 1, worker = $4, lease_token = $5, lease_expires_at = $6
    FROM picked
    WHERE jobs.id = picked.id
    RETURNING jobs.*
), started AS (
    INSERT INTO attempts (job_id, attempt, worker, started_at)
    SELECT id, attempt, $4, $7 FROM claimed
)
SELECT * FROM claimed ORDER BY priority DESC, run_at
