INSERT INTO schedules (id, namespace, name, bucket, spec, paused, version, next_fire_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $8)
RETURNING *
