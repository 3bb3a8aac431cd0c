SELECT * FROM occurrences
WHERE schedule_id = $1 AND ($2::bigint IS NULL OR scheduled_for < $2)
ORDER BY scheduled_for DESC
LIMIT $3
