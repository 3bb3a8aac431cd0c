UPDATE jobs SET lease_expires_at = $3
WHERE id = $1 AND lease_token = $2 AND state = 'running' AND lease_expires_at > $4
RETURNING lease_expires_at
