-- Follows jobs_pick_due.sql or jobs_pick_early.sql, which choose `picked`.
-- $1 queues (empty: any queue), $2 due by, $3 limit, $4 worker, $5 lease
-- token, $6 lease length (ms), $7 now (NULL: the database's clock), $8 due
-- after (NULL: a claim of due jobs). One statement, so no explicit
-- transaction: SKIP LOCKED lets concurrent claimers take different jobs
-- without waiting for each other. Paused queues are never claimed from.
-- One attempt row per claimed job.
claimed AS (
    UPDATE jobs
    SET state = 'running', attempt = jobs.attempt + 1, worker = $4, lease_token = $5,
        lease_expires_at = COALESCE($7::bigint, (extract(epoch FROM statement_timestamp()) * 1000)::bigint) + $6
    -- ANY(ARRAY(...)) reaches the rows by primary key; a join here gets a
    -- generic plan that hashes the whole table (10 ms at 50,000 jobs).
    WHERE jobs.id = ANY(ARRAY(SELECT id FROM picked))
    RETURNING jobs.*
), started AS (
    INSERT INTO attempts (job_id, attempt, worker, started_at)
    SELECT id, attempt, $4, COALESCE($7::bigint, (extract(epoch FROM statement_timestamp()) * 1000)::bigint)
    FROM claimed
)
SELECT * FROM claimed
ORDER BY CASE WHEN $8::bigint IS NULL THEN priority END DESC, run_at, priority DESC
