-- $1 id, $2 expected version (NULL: any), $3 namespace, $4 name, $5 spec,
-- $6 paused, $7 next_fire_at, $8 now.
UPDATE schedules
SET namespace = $3, name = $4, spec = $5, paused = $6, next_fire_at = $7,
    version = version + 1, updated_at = $8
WHERE id = $1 AND ($2::bigint IS NULL OR version = $2)
RETURNING *
