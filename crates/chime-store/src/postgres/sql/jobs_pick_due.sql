-- The jobs a claim takes (jobs_claim.sql follows): those due by $2 (NULL:
-- now), highest priority first. $7 now (NULL: the database's clock,
-- statement_timestamp(): stable, so the claim index stays usable; a CTE
-- holding `now` joined in made the planner sort every pending job).
WITH picked AS (
    SELECT id FROM jobs
    WHERE state = 'pending'
      AND run_at <= COALESCE($2::bigint, $7::bigint, (extract(epoch FROM statement_timestamp()) * 1000)::bigint)
      AND (cardinality($1::text[]) = 0 OR queue = ANY($1::text[]))
      AND queue NOT IN (SELECT name FROM queues WHERE paused)
    ORDER BY priority DESC, run_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
),
