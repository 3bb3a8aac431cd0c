-- Follows jobs_pick_due.sql or jobs_pick_early.sql, which choose `picked`.
-- ?1 JSON array of queues (empty: any queue), ?2 due by, ?3 limit, ?4
-- worker, ?5 lease token, ?6 lease expiry, ?7 due after (bound for the
-- early pick only). Paused queues are never claimed from.
UPDATE jobs
SET state = 'running', attempt = attempt + 1, worker = ?4, lease_token = ?5, lease_expires_at = ?6
WHERE id IN (SELECT id FROM picked)
RETURNING *
