UPDATE jobs
SET state = 'cancelled', finished_at = $2, lease_token = NULL, lease_expires_at = NULL
WHERE id = $1 AND state IN ('pending', 'running')
RETURNING *
