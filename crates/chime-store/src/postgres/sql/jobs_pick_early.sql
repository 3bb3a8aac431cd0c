-- The jobs a claim ahead of the free slots takes (jobs_claim.sql follows):
-- those not yet due, after $8 and by $2, earliest first (index jobs_early).
WITH picked AS (
    SELECT id FROM jobs
    WHERE state = 'pending'
      AND run_at > $8::bigint
      AND run_at <= COALESCE($2::bigint, $7::bigint, (extract(epoch FROM statement_timestamp()) * 1000)::bigint)
      AND (cardinality($1::text[]) = 0 OR queue = ANY($1::text[]))
      AND queue NOT IN (SELECT name FROM queues WHERE paused)
    ORDER BY run_at, priority DESC
    LIMIT $3
    FOR UPDATE SKIP LOCKED
),
