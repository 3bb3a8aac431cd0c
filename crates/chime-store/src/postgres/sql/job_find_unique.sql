SELECT id FROM jobs
WHERE namespace = $1 AND unique_key = $2 AND state IN ('pending', 'running')
