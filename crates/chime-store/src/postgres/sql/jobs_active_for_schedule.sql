SELECT id FROM jobs WHERE schedule_id = $1 AND state IN ('pending', 'running') ORDER BY id
